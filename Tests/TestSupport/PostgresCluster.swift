import Foundation

/// A PostgreSQL cluster of Debian's `postgresql` package in a temporary directory, on a loopback port, for one
/// test: `initdb` as the unprivileged `postgres` user when the tests run as root (initdb refuses root), started
/// with `pg_ctl`, stopped and removed by `stop()` or at deinit.
public final class PostgresCluster: @unchecked Sendable {
    public let directory: String
    public let port: UInt16
    /// The libpq URI of the `postgres` database as the `postgres` role.
    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres?connect_timeout=5" }
    private let owner: String?
    private var running = false

    /// Where Debian puts the server programs; nil when the package is missing (then the caller says it skipped).
    public static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap({ Int($0) }).max() else { return nil }
        let bin = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(bin)/initdb") ? bin : nil
    }()

    /// Why a cluster cannot be made here, or nil.
    public static var unavailable: String? {
        guard binaries != nil else { return "no PostgreSQL server (Debian package postgresql) on this machine" }
        guard geteuid() != 0 || getpwnam("postgres") != nil else { return "running as root without a postgres user" }
        return nil
    }

    /// A started cluster for `test`, or nil after printing why none can be made here (the test then says it skipped).
    public static func forTest(_ test: String) throws -> PostgresCluster? {
        if let reason = unavailable {
            print("SKIPPED \(test): \(reason)")
            return nil
        }
        return try PostgresCluster()
    }

    /// Makes and starts a cluster with `trust` authentication on 127.0.0.1 only.
    public init() throws {
        guard let bin = Self.binaries else { throw PostgresUnavailable(description: Self.unavailable ?? "no PostgreSQL") }
        directory = try Self.makeDirectory()
        owner = geteuid() == 0 ? "postgres" : nil
        port = try freeLoopbackPort()
        if let owner { _ = try sh("chown", "-R", owner, directory) }
        try asOwner(["\(bin)/initdb", "-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try start()
    }

    deinit { try? stop(removing: true) }

    /// Starts the server (again, after `stop()`), waiting until it accepts connections.
    public func start() throws {
        guard let bin = Self.binaries else { return }
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=on -c max_connections=50"
        try asOwner(["\(bin)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-o", options, "-w", "start"])
        running = true
    }

    /// Stops the server at once (`-m immediate`: as a crash would, or `fast`); `removing` deletes the cluster.
    public func stop(immediately: Bool = false, removing: Bool = false) throws {
        if running, let bin = Self.binaries {
            _ = try? asOwner(["\(bin)/pg_ctl", "-D", "\(directory)/data", "-m", immediately ? "immediate" : "fast", "-w", "stop"])
            running = false
        }
        if removing { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The server's log, for a failing test's message.
    public var log: String { (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? "" }

    /// Runs a server program with its output in the cluster's log, through posix_spawn and waitpid: the server
    /// `pg_ctl start` leaves running must hold no pipe of ours, and Foundation's `Process` did not see `pg_ctl`
    /// exit once the server it forked was running (the test hung on a zombie).
    private func asOwner(_ arguments: [String]) throws {
        let command =
            owner.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--init-groups", "--"] + arguments } ?? arguments
        let output = "\(directory)/commands.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let pointers = command.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        let spawned = posix_spawn(&pid, command[0], &actions, nil, pointers, environ)
        guard spawned == 0 else { throw PostgresUnavailable(description: "cannot start \(command[0]): \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PostgresUnavailable(description: "\(arguments.joined(separator: " ")) failed (\(status)): \(text)\n\(log)")
        }
    }

    private static func makeDirectory() throws -> String {
        let path = "\(NSTemporaryDirectory())/pa-postgres-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = chmod(path, 0o755)
        return path
    }
}

/// No PostgreSQL server on this machine.
public struct PostgresUnavailable: Error, CustomStringConvertible {
    public let description: String
}
