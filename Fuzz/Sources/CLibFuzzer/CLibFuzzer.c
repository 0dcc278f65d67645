// The declaration in include/CLibFuzzer.h is the whole module; SwiftPM needs one source file per C target.
#include "CLibFuzzer.h"
