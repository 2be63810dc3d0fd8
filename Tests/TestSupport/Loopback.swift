import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP socket listening on 127.0.0.1 that never accepts or answers: a stalled server.
public final class SilentListener: @unchecked Sendable {
    public let port: UInt16
    private let descriptor: Int32

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw CommandFailed.socket("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        close(descriptor)
    }
}

/// A port on 127.0.0.1 that nothing listens on right now.
public func freeLoopbackPort() throws -> UInt16 {
    let listener = try SilentListener()
    return listener.port
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
public func waitForPort(_ port: UInt16, timeout: TimeInterval = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        close(descriptor)
        if connected == 0 { return true }
        usleep(50_000)
    }
    return false
}

/// A server process on a free loopback port, killed (SIGKILL) when released.
public class LoopbackServer: @unchecked Sendable {
    public let port: UInt16
    private let process = Process()

    /// `arguments(port)` builds the command line once the port is chosen.
    init(executable: String, arguments: (UInt16) -> [String], name: String) throws {
        port = try freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments(port)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForPort(port) else { throw CommandFailed.socket("\(name) did not start on \(port)") }
    }

    deinit {
        // SIGKILL: a server can inherit a mask that blocks SIGTERM from the test runner's threads.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// `git daemon` serving a directory over git:// on loopback.
public final class GitDaemon: LoopbackServer, @unchecked Sendable {
    public init(serving directory: String) throws {
        // git-daemon itself, not the `git` wrapper, so that killing it stops the server.
        let execPath = try sh("git", "--exec-path")
        try super.init(
            executable: "\(execPath)/git-daemon",
            arguments: { port in
                [
                    "--reuseaddr", "--base-path=\(directory)", "--export-all", "--listen=127.0.0.1", "--port=\(port)",
                    directory,
                ]
            }, name: "git daemon")
    }

    /// The git:// URL of a repository under the served directory.
    public func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }
}

/// A smart-HTTP Git server on loopback that requires a token as the basic-auth password.
public final class GitHTTPServer: LoopbackServer, @unchecked Sendable {
    /// `requestLog`: a file each authorized request's method and path are appended to.
    public init(serving directory: String, token: String, requestLog: String? = nil) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("git_http_server.py")
        try super.init(
            executable: "/usr/bin/env",
            arguments: { port in ["python3", script.path, directory, String(port), token] + (requestLog.map { [$0] } ?? []) },
            name: "git HTTP server")
    }

    /// The http:// URL of a repository under the served directory.
    public func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }
}

extension CommandFailed {
    public static func socket(_ message: String) -> CommandFailed {
        CommandFailed(command: ["socket"], result: ProcessResult(status: -1, stdout: "", stderr: message))
    }
}

/// An HTTP receiver that records every POST (see receiver.py) for notification tests.
public final class RecordingReceiver: LoopbackServer, @unchecked Sendable {
    public let log: String

    public init(logIn directory: String) throws {
        let log = "\(directory)/received.jsonl"
        self.log = log
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/notification_receiver.py")
        try super.init(
            executable: "/usr/bin/env", arguments: { port in ["python3", script.path, String(port), log] }, name: "receiver")
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Requests received so far, oldest first.
    public func requests() -> [(path: String, headers: [String: String], body: String)] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return (
                object["path"] as? String ?? "", object["headers"] as? [String: String] ?? [:], object["body"] as? String ?? ""
            )
        }
    }
}
