/* gw_version.h -- the module's version, for L1 and L2 alike. */
#ifndef GW_VERSION_H
#define GW_VERSION_H
#define GW_VERSION_STRING "0.1.0"
#endif
