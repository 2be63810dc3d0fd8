import Foundation

/// The `pipeline-agent` executable built next to the test bundle.
public func agentBinary() -> String {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("pipeline-agent").path
    if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/pipeline-agent").path
}

/// Runs the agent with arguments and returns its exit status and output.
@discardableResult
public func runAgent(
    _ arguments: String..., in directory: String? = nil, environment: [String: String] = [:]
) throws
    -> ProcessResult
{
    try runProcess([agentBinary()] + arguments, in: directory, environment: environment)
}
