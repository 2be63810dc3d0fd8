import Foundation

/// A preload library that kills the process at its N-th `fsync`/`fdatasync`, counted over all its threads.
///
/// strace's `inject=…:when=N` counts per thread: once promotions ran on threads of their own, the loop
/// thread's count passed N before a promotion's thread reached its N-th sync, so no kill fell inside a
/// promotion's first syncs and a rollback was never interrupted. One process-wide counter tries every
/// sync of the agent in the order they happen. Only the first process running `program` arms itself;
/// the steps it starts (which inherit the environment) run untouched.
public enum SyncKiller {
    static let source = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <signal.h>
        #include <stdatomic.h>
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>

        static long target;
        static atomic_long count;

        __attribute__((constructor)) static void arm(void) {
            const char *at = getenv("PA_KILL_AT_SYNC");
            const char *program = getenv("PA_KILL_PROGRAM");
            char exe[4096];
            ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
            if (at == NULL || program == NULL || length <= 0 || getenv("PA_KILL_ARMED") != NULL) return;
            exe[length] = 0;
            if (strcmp(exe, program) != 0) return;
            target = atol(at);
            setenv("PA_KILL_ARMED", "1", 1);
        }

        static void count_sync(void) {
            if (target > 0 && atomic_fetch_add(&count, 1) + 1 == target) kill(getpid(), SIGKILL);
        }

        int fsync(int fd) {
            static int (*real)(int);
            count_sync();
            if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
            return real(fd);
        }

        int fdatasync(int fd) {
            static int (*real)(int);
            count_sync();
            if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
            return real(fd);
        }
        """#

    /// The environment that kills `program` (an absolute path), started with it, at its `n`-th sync.
    public static func environment(killing program: String, at n: Int) throws -> [String: String] {
        let resolved = URL(fileURLWithPath: program).resolvingSymlinksInPath().path
        return ["LD_PRELOAD": try library(), "PA_KILL_AT_SYNC": "\(n)", "PA_KILL_PROGRAM": resolved]
    }

    /// Compiles the library once per test process (with `cc`, or the clang that ships with Swift).
    public static func library() throws -> String {
        try built.get()
    }

    private static let built: Result<String, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pa-sync-killer-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sourcePath = "\(directory)/sync_killer.c"
        let libraryPath = "\(directory)/libsync_killer.so"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        try sh(compiler(), "-shared", "-fPIC", "-O2", "-o", libraryPath, sourcePath, "-ldl")
        return libraryPath
    }

    private static func compiler() -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/cc") {
            return "\(directory)/cc"
        }
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/swift") {
            let swift = URL(fileURLWithPath: "\(directory)/swift").resolvingSymlinksInPath()
            return swift.deletingLastPathComponent().appendingPathComponent("clang").path
        }
        return "cc"
    }
}
