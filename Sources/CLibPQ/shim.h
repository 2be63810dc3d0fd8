#ifndef PIPELINE_AGENT_CLIBPQ_SHIM_H
#define PIPELINE_AGENT_CLIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
