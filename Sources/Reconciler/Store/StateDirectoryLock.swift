import Foundation

/// One agent per state directory: an exclusive `flock` on `<state>/agent.lock`, released by the
/// kernel when the process dies (kill -9 included), so a stale lock never needs cleaning up.
public final class StateDirectoryLock: @unchecked Sendable {
    public static let fileName = "agent.lock"

    /// Who holds the lock, as written into the lock file by the holder.
    public struct Holder: Sendable, Hashable, CustomStringConvertible {
        public let pid: Int32
        public let host: String
        public let since: String

        public var description: String { "pid \(pid) on \(host) since \(since)" }

        static func parse(_ text: String) -> Holder? {
            let fields = Dictionary(
                text.split(separator: "\n").compactMap { line -> (String, String)? in
                    guard let equals = line.firstIndex(of: "=") else { return nil }
                    return (String(line[..<equals]), String(line[line.index(after: equals)...]))
                }, uniquingKeysWith: { $1 })
            guard let pid = fields["pid"].flatMap(Int32.init) else { return nil }
            return Holder(pid: pid, host: fields["host"] ?? "?", since: fields["since"] ?? "?")
        }
    }

    public let path: String
    private let descriptor: Int32

    /// Takes the lock or throws `StateDirectoryLocked` naming the holder; never waits.
    public init(directory: String, now: Date = Date()) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = "\(directory)/\(Self.fileName)"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StateDirectoryError.unusable(path: path, reason: String(cString: strerror(errno)))
        }
        guard Self.lockExclusively(descriptor) else {
            let holder = Self.readHolder(descriptor)
            close(descriptor)
            throw StateDirectoryLocked(directory: directory, holder: holder)
        }
        self.descriptor = descriptor
        let text = "pid=\(getpid())\nhost=\(ProcessInfo.processInfo.hostName)\nsince=\(AuditTime.format(now))\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }

    /// A reader's `holder(of:)` takes a shared lock for an instant: retry briefly before giving up.
    private static func lockExclusively(_ descriptor: Int32) -> Bool {
        for attempt in 0..<5 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            if attempt < 4 { usleep(40_000) }
        }
        return false
    }

    /// The holder of the lock on `directory`, or nil when no agent holds it.
    public static func holder(of directory: String) -> Holder? {
        let path = "\(directory)/\(fileName)"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // A shared lock is granted only while no agent holds the exclusive one.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return readHolder(descriptor) ?? Holder(pid: 0, host: "?", since: "?")
    }

    private static func readHolder(_ descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Holder.parse(String(decoding: buffer[0..<count], as: UTF8.self))
    }
}

/// Another agent already runs on this state directory.
public struct StateDirectoryLocked: Error, CustomStringConvertible {
    public let directory: String
    public let holder: StateDirectoryLock.Holder?

    public var description: String {
        let who = holder.map { "another agent (\($0))" } ?? "another agent"
        return """
            \(who) holds the state directory \(directory); only one agent may run on a state directory. \
            Stop that agent first, or give this one its own state.path. status, plan and audit work next to it.
            """
    }
}

/// The state directory cannot be used at all.
public enum StateDirectoryError: Error, CustomStringConvertible {
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unusable(let path, let reason): return "cannot use \(path): \(reason)"
        }
    }
}
