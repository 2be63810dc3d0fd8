import Foundation

/// The output of a finished process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A command that exited with a status other than the one expected.
public struct CommandFailed: Error, CustomStringConvertible {
    public let command: [String]
    public let result: ProcessResult
    public var description: String {
        "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)"
    }
}

/// Runs a program (looked up on PATH) and waits for it.
@discardableResult
public func runProcess(
    _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], input: Data? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let out = Pipe()
    let err = Pipe()
    let inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(input) }
    try inPipe.fileHandleForWriting.close()
    // Both pipes at once: a child that fills one (64 KiB of log lines on stderr) while the other is being
    // read to its end would block for ever (found when the agent began logging each promotion).
    let errors = PipeReader(err.fileHandleForReading)
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs a program and fails unless it exits 0; returns its trimmed standard output.
@discardableResult
public func sh(_ arguments: String..., in directory: String? = nil, environment: [String: String] = [:]) throws -> String {
    let result = try runProcess(arguments, in: directory, environment: environment)
    guard result.status == 0 else { throw CommandFailed(command: arguments, result: result) }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A temporary directory removed when the value is released.
public final class Scratch: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "pa-test") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    /// A path inside the scratch directory.
    public func sub(_ relative: String) -> String { "\(path)/\(relative)" }

    /// Writes a text file, creating directories as needed.
    public func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: sub(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Reads a pipe to its end on a thread of its own.
final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
