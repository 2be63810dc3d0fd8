import Foundation
import TestSupport
import Testing

/// A config whose state directory holds a log written by the real audit library.
private func stateWithLog(records: Int) throws -> (Scratch, String) {
    let scratch = try Scratch()
    try scratch.write("agent.yaml", "source: {url: /srv/git/team.git}\nstate: {path: ./state}\n")
    let bench = URL(fileURLWithPath: agentBinary()).deletingLastPathComponent().appendingPathComponent("audit-bench").path
    try sh(bench, "append", "--dir", scratch.sub("state"), "--count", String(records))
    return (scratch, scratch.sub("agent.yaml"))
}

@Suite("pipeline-agent audit verify / log / export")
struct AuditCommandTests {
    @Test("verify: intact, then broken at the tampered seq")
    func verify() throws {
        let (scratch, config) = try stateWithLog(records: 6)
        defer { withExtendedLifetime(scratch) {} }
        let intact = try runAgent("audit", "verify", "--config", config)
        #expect(intact.status == 0)
        #expect(intact.stdout.hasPrefix("6 records, chain intact, head "))

        let path = scratch.sub("state/audit.jsonl")
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: "\"build\"", with: "\"deploy\"")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let broken = try runAgent("audit", "verify", "--config", config)
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("audit log broken at seq 4: hash mismatch"))
    }

    @Test("log: aligned text, JSON Lines, filters")
    func log() throws {
        let (scratch, config) = try stateWithLog(records: 3)
        defer { withExtendedLifetime(scratch) {} }
        let text = try runAgent("audit", "log", "--config", config)
        #expect(text.status == 0)
        let rows = text.stdout.split(separator: "\n")
        #expect(rows.count == 3)
        #expect(rows[0].hasPrefix("1  20"))
        #expect(rows[0].contains("step.finished  olist-analytics/staging  3f2c9e1d0b7a  agent  durationMs=6000"))

        let json = try runAgent("audit", "log", "--config", config, "--output", "json", "--stage", "staging")
        #expect(json.stdout.split(separator: "\n").count == 3)
        let none = try runAgent("audit", "log", "--config", config, "--stage", "prod")
        #expect(none.stdout.isEmpty)
        let prefix = try runAgent("audit", "log", "--config", config, "--candidate", "3f2c9e1", "--since", "1h")
        #expect(prefix.stdout.split(separator: "\n").count == 3)
        let future = try runAgent("audit", "log", "--config", config, "--since", "2999-01-01T00:00:00Z")
        #expect(future.stdout.isEmpty)
        #expect(try runAgent("audit", "log", "--config", config, "--since", "yesterday").status == 2)
    }

    @Test("export: CSV for a spreadsheet and a JSON array")
    func export() throws {
        let (scratch, config) = try stateWithLog(records: 2)
        defer { withExtendedLifetime(scratch) {} }
        let csv = try runAgent("audit", "export", "--config", config, "--output", "csv")
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == "seq,time,type,pipeline,stage,candidate,actor,detail,prev,hash")
        #expect(lines.count == 3)
        #expect(lines[1].contains(#""{""durationMs"":6000"#))
        let json = try runAgent("audit", "export", "--config", config, "--output", "json")
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(array?.count == 2)
        #expect(array?.last?["seq"] as? Int == 2)
    }

    @Test("a broken config is a usage error with a located message")
    func badConfig() throws {
        let scratch = try Scratch()
        try scratch.write("agent.yaml", "source: {url: x}\nstate: {paht: ./state}\n")
        let result = try runAgent("audit", "verify", "--config", scratch.sub("agent.yaml"))
        #expect(result.status == 2)
        #expect(result.stderr.contains("agent.yaml:2:9: error: state: unknown key 'paht'; did you mean 'path'?"))
    }
}
