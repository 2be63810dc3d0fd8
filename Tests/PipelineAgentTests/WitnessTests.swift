import Foundation
import TestSupport
import Testing

/// Attack 4's last line of defence: a log rewritten together with its anchor (by root, or anything that
/// reached the state directory) verifies as intact on the host; the witness's checkpoints catch it.
@Suite("Witness checkpoints: a rewrite of log and anchor together is detected")
struct WitnessTests {
    /// Drops the first record of `type`, renumbers and re-hashes the chain, and moves the anchor: what a
    /// patient attacker with write access to the state directory does.
    static let rewrite = #"""
        import hashlib, json, sqlite3, sys
        state, dropped = sys.argv[1], sys.argv[2]
        lines = [json.loads(l) for l in open(state + "/audit.jsonl") if l.strip()]
        victim = next(i for i, r in enumerate(lines) if r["type"] == dropped)
        del lines[victim]
        prev, out = "0" * 64, []
        for seq, record in enumerate(lines, start=1):
            record.pop("hash", None)
            record["seq"], record["prev"] = seq, prev
            body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            record["hash"] = prev = hashlib.sha256(body.encode()).hexdigest()
            out.append(json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        open(state + "/audit.jsonl", "w").write("\n".join(out) + "\n")
        db = sqlite3.connect(state + "/state.sqlite")
        db.execute("UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1", (len(out), prev))
        db.commit()
        """#

    @Test("checkpoints after each promotion verify; after a rewrite the chain looks intact but the witness says where")
    func rewriteDetected() throws {
        let stages = [deployStage("dev", strict: false), deployStage("staging", from: "dev", strict: false)]
            .joined(separator: "\n")
        let fixture = try AgentFixture(stages: stages, extraConfig: "witness: {file: ./witness/checkpoints.jsonl}\n")
        try FileManager.default.createDirectory(atPath: "\(fixture.root)/witness", withIntermediateDirectories: true)
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let file = "\(fixture.root)/witness/checkpoints.jsonl"
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3, "one after each promotion and one at the stop: \(lines)")
        var verify = try fixture.agent("audit", "verify", "--witness", file)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("checkpoints, every witnessed head is in the log"), "\(verify.stdout)")

        try sh("\(repositoryRoot)/.venv/bin/python", "-c", Self.rewrite, "\(fixture.root)/state", "promotion.started")
        verify = try fixture.agent("audit", "verify")
        #expect(
            verify.status == 0 && verify.stdout.contains("chain intact"), "the rewrite fools the chain alone: \(verify.stdout)")
        verify = try fixture.agent("audit", "verify", "--witness", file)
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("(rewritten)") || verify.stdout.contains("(cut or rewritten)"), "\(verify.stdout)")

        // The auditor's page says the same: the chain alone looks intact, the witness's checkpoints do not hold.
        let port = try freeLoopbackPort()
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try fixture.git.scratch.write("agent.yaml", config + "http: {listen: \"127.0.0.1:\(port)\"}\n")
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root])
        defer { _ = agent.terminate() }
        let page = try agent.curl("http://127.0.0.1:\(port)/audit").body
        #expect(page.contains(">chain intact<"), "\(page.prefix(2000))")
        #expect(page.contains("Witness checkpoints go to file \(file)"), "\(page.prefix(2000))")
        #expect(page.contains(">checkpoints do not hold<") && page.contains("rewritten)"), "\(page.prefix(2500))")
    }

    @Test("a checkpoint signed by another key, or edited, does not count")
    func forgedCheckpoint() throws {
        let fixture = try AgentFixture(
            stages: deployStage("dev", strict: false), extraConfig: "witness: {file: ./checkpoints.jsonl}\n")
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let file = "\(fixture.root)/checkpoints.jsonl"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        let first = try #require(original.split(separator: "\n").first)
        let edited = first.replacingOccurrences(of: #""seq":"#, with: #""seq":1"#)
        try (original + edited + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let verify = try fixture.agent("audit", "verify", "--witness", file)
        #expect(verify.status == 1 && verify.stdout.contains("the signature does not verify"), "\(verify.stdout)")
        #expect(try sh("stat", "-c", "%a", "\(fixture.root)/state/witness.key") == "600")
    }
}
