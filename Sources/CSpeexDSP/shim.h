#include <speex/speex_resampler.h>
#include <speex/speex_echo.h>
