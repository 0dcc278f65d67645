// OpenSSL's libcrypto EVP interface: AES-128-GCM with DAVE's 8-byte tags, keyed once per context (DAVE frames).
#include <openssl/evp.h>
