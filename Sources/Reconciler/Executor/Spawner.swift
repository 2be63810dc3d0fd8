import Foundation

/// A message that fits in a `Result` failure.
struct SpawnError: Error {
    let text: String
}

/// posix_spawn of `/bin/sh -c` in a new process group, with a clean signal state (the agent's
/// threads block some signals, and a child must not inherit that) and a chosen directory.
enum Spawner {
    static func spawn(
        _ command: String, directory: String, environment: [String: String], outputDescriptor: Int32,
        user: StepUser? = nil
    ) -> Result<pid_t, SpawnError> {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        posix_spawnattr_setflags(&attributes, Int16(flags))

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor, 2)
        guard let addChdir = addChdir, addChdir(&actions, directory) == 0 else {
            return .failure(SpawnError(text: "this C library cannot set a child's working directory"))
        }
        // Steps must not inherit the agent's descriptors (state database, pipes of whoever started us).
        guard let addCloseFrom = addCloseFrom, addCloseFrom(&actions, 3) == 0 else {
            return .failure(SpawnError(text: "this C library cannot close inherited descriptors"))
        }

        let (program, arguments, variables) = commandLine(command, environment: environment, user: user)
        let environmentLines = variables.map { "\($0.key)=\($0.value)" }.sorted()
        var pid: pid_t = 0
        let result = LiveChildren.shared.spawning {
            let result = withCStrings(arguments) { argv in
                withCStrings(environmentLines) { envp in
                    posix_spawn(&pid, program, &actions, &attributes, argv, envp)
                }
            }
            return (result, result == 0 ? pid : nil)
        }
        guard result == 0 else {
            return .failure(SpawnError(text: "cannot start \(program): \(String(cString: strerror(result)))"))
        }
        return .success(pid)
    }

    /// `/bin/sh -c command`, behind `setpriv` when the command runs as another user: real and effective
    /// ids switched, supplementary groups dropped, no privilege gained through setuid files.
    static func commandLine(
        _ command: String, environment: [String: String], user: StepUser?
    ) -> (program: String, arguments: [String], environment: [String: String]) {
        guard let user else { return ("/bin/sh", ["/bin/sh", "-c", command], environment) }
        var variables = environment
        variables["HOME"] = user.home
        variables["USER"] = user.name
        variables["LOGNAME"] = user.name
        let arguments = [
            user.switcher, "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--no-new-privs", "--",
            "/bin/sh", "-c", command,
        ]
        return (user.switcher, arguments, variables)
    }

    private typealias AddChdir =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?
        ) -> Int32

    /// glibc ≥ 2.29 has `posix_spawn_file_actions_addchdir_np`, but its header hides it from Swift.
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc ≥ 2.34: close every descriptor from a number up, in the child.
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

/// Collects a child's output through a pipe into a file, keeping at most `limit` bytes. A write
/// that fails (a full disk) stops the copying and is reported, never a crash; the pipe is still
/// drained so the child does not block.
final class OutputCapture: @unchecked Sendable {
    let writeEnd: Int32
    private let readEnd: Int32
    private let file: Int32
    private let limit: Int
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var kept = 0
    private var droppedBytes = 0
    private var failure: String?
    /// Set once `finish` closed the file: the reader then only drains the pipe.
    private var abandoned = false
    /// Secrets never reach the file, not even while the step runs.
    private var stream: StreamRedactor

    init(path: String, limit: Int, redactor: SecretRedactor = .none) throws {
        stream = StreamRedactor(redactor)
        file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw SpawnError(text: "cannot create \(path): \(String(cString: strerror(errno)))") }
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            close(file)
            throw SpawnError(text: "pipe: \(String(cString: strerror(errno)))")
        }
        readEnd = descriptors[0]
        writeEnd = descriptors[1]
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        self.limit = limit
        let reader = Thread { [self] in pump() }
        reader.start()
    }

    var dropped: Int { lock.withLock { droppedBytes } }

    /// Why the log is incomplete (a write or sync failed), or nil.
    var writeFailure: String? { lock.withLock { failure } }

    func closeWriteEnd() { close(writeEnd) }

    /// Waits until the child (and anything it left running) closed the pipe, at most `grace`; after that
    /// the log is closed as it is and the reader drops what still comes (a process that escaped the step).
    func finish(within grace: Duration = .seconds(2)) {
        _ = done.wait(timeout: .now() + grace.timeInterval)
        lock.withLock {
            if !abandoned { keep(stream.finish()) }
            abandoned = true
            if fsync(file) != 0, failure == nil { failure = "sync failed: \(String(cString: strerror(errno)))" }
            close(file)
        }
    }

    private func pump() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(readEnd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            lock.withLock {
                guard !abandoned else {
                    droppedBytes += count
                    return
                }
                keep(stream.feed(buffer[0..<count]))
            }
        }
        close(readEnd)
        done.signal()
    }

    /// Writes what fits under the limit and counts the rest as dropped. The caller holds `lock`.
    private func keep(_ clean: [UInt8]) {
        let room = failure == nil ? max(0, limit - kept) : 0
        let keep = min(room, clean.count)
        let written = keep > 0 ? writeAll(clean, count: keep) : 0
        kept += written
        droppedBytes += clean.count - written
    }

    /// Writes the first `count` bytes; returns how many reached the file. The caller holds `lock`
    /// (so `finish` cannot close the file under it).
    private func writeAll(_ buffer: [UInt8], count: Int) -> Int {
        buffer.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            var offset = 0
            while offset < count {
                let result = write(file, base + offset, count - offset)
                if result < 0, errno == EINTR { continue }
                guard result > 0 else {
                    if failure == nil { failure = "write failed: \(String(cString: strerror(errno)))" }
                    break
                }
                offset += result
            }
            return offset
        }
    }
}
