import Foundation
import TestSupport
import Testing

/// docs/getting-started.md is what a new user follows: its `sh` blocks are run as written, in one shell.
@Suite("The getting-started walkthrough works as written")
struct GettingStartedTests {
    @Test("every sh block of docs/getting-started.md, in order: promoted, approved, failed, retried, verified")
    func walkthrough() throws {
        let document = try String(contentsOfFile: "\(repositoryRoot)/docs/getting-started.md", encoding: .utf8)
        let blocks = document.components(separatedBy: "```sh\n").dropFirst().compactMap {
            $0.components(separatedBy: "```").first
        }
        #expect(blocks.count >= 8, "the walkthrough lost its steps")
        let scratch = try Scratch()
        let bin = scratch.sub("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(bin)/pipeline-agent", withDestinationPath: agentBinary())
        let port = try freeLoopbackPort()
        // Where `make install` puts the script, and a port of our own: the only two changes to the text.
        let script = ("set -euo pipefail\n" + blocks.joined(separator: "\n"))
            .replacingOccurrences(
                of: "/usr/local/share/pipeline-agent/verify-audit.py", with: "\(repositoryRoot)/scripts/verify-audit.py"
            )
            .replacingOccurrences(of: "127.0.0.1:8089", with: "127.0.0.1:\(port)")
        try scratch.write("walkthrough.sh", script)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let run = try runProcess(
            ["bash", scratch.sub("walkthrough.sh")], in: scratch.path,
            environment: ["PATH": "\(bin):\(path)", "WORK": scratch.sub("work"), "HOME": scratch.path])
        // A walkthrough that failed half-way leaves its agent running: stop it.
        if let pid = try? String(contentsOfFile: scratch.sub("work/agent.pid"), encoding: .utf8) {
            _ = try? runProcess(["kill", pid.trimmingCharacters(in: .whitespacesAndNewlines)])
        }
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        for expected in [
            "waiting for approvals of", "Hello, world", "warehouse unreachable", "asked to retry", "Hello again",
            "chain intact", "intact:", "approval.accepted",
        ] {
            #expect(run.stdout.contains(expected), "missing \(expected):\n\(run.stdout)")
        }
        let approved = try String(contentsOfFile: scratch.sub("work/deployed/prod/greeting.txt"), encoding: .utf8)
        #expect(approved == "Hello, world\n")
    }
}
