#ifndef PIPELINE_AGENT_CGIT2_SHIM_H
#define PIPELINE_AGENT_CGIT2_SHIM_H

#include <git2.h>

/* git_libgit2_opts is variadic and cannot be called from Swift: typed wrappers. */
static inline int pa_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

/* Trees up to `bytes` stay in libgit2's object cache (default 4 KiB: a directory of a thousand
   entries was re-read, inflated and re-hashed for every commit compared). */
static inline int pa_git_set_tree_cache_limit(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, bytes);
}

#endif
