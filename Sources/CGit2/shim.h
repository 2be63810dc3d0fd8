#ifndef PIPELINE_AGENT_CGIT2_SHIM_H
#define PIPELINE_AGENT_CGIT2_SHIM_H

#include <git2.h>

/* git_libgit2_opts is variadic and cannot be called from Swift: typed wrappers. */
static inline int pa_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

#endif
