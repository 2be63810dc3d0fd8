import Foundation
import TestSupport
import Testing

/// The agent killed at its N-th fsync/fdatasync (a preload library counting them over all threads), for
/// every N of a run, then restarted: every crash point is tried, not a random few.
@Suite("Crash-exact outcomes: a kill at every sync of a promotion", .serialized)
struct CrashEnumerationTests {
    /// dev deploys app/version.txt to $PA_ROOT/deployed, fails verification on "bad", and restores
    /// the previous candidate's file on rollback.
    static let stage = stage(deployed: "deployed", source: "app/version.txt")

    /// The stage above for any pipeline: `source` deployed to `$PA_ROOT/<deployed>`; `pause` seconds after
    /// the copy keep a promotion running while another starts.
    static func stage(deployed: String, source: String, pause: String = "0") -> String {
        [
            "    - name: dev", "      steps:",
            #"        - {name: deploy, run: 'cp \#(source) "$PA_ROOT/\#(deployed)" && sleep \#(pause)'}"#,
            "      verify:", #"        - {name: not-bad, run: '! grep -q bad "$PA_ROOT/\#(deployed)"'}"#,
            "      rollback:",
            #"        - {name: restore, run: 'if [ -n "$PA_PREVIOUS" ]; then git -C "$PA_ROOT/work" show "$PA_PREVIOUS:\#(source)" > "$PA_ROOT/\#(deployed)"; else rm -f "$PA_ROOT/\#(deployed)"; fi'}"#,
        ].joined(separator: "\n")
    }

    @Test("a first promotion that succeeds: killed at each sync, restarted, it ends deployed and audited once")
    func succeeding() throws {
        let fixture = try AgentFixture(stages: Self.stage)
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        let points = try enumerate(fixture) { root in
            try checkInvariants(root, expect: v1)
        }
        #expect(points > 10, "the run makes more than 10 syncs (\(points))")
    }

    @Test("a promotion that fails verification: killed at each sync (rollback included), the bad candidate is never retried")
    func failing() throws {
        let fixture = try AgentFixture(stages: Self.stage)
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let bad = try fixture.push("bad", files: ["app/version.txt": "v2 bad\n"])
        try enumerate(fixture) { root in
            try checkInvariants(root, expect: v1, failed: bad)
        }
    }

    @Test("killed during the rollback, then at every sync of the recovery: one terminal record, failed stays failed")
    func recoveryKilled() throws {
        let fixture = try AgentFixture(stages: Self.stage)
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let bad = try fixture.push("bad", files: ["app/version.txt": "v2 bad\n"])
        // The first kill point whose log ends inside the rollback.
        var inRollback: Scratch?
        for n in 1...400 {
            let copy = try copyOf(fixture.root)
            guard try runKilled(at: n, root: copy.path) else { break }
            let types = try auditRecords(copy.path).map { $0["type"] as? String ?? "" }
            if types.last == "rollback.started" || types.last == "step.started" && types.contains("rollback.started") {
                inRollback = copy
                break
            }
        }
        let template = try #require(inRollback, "no kill point fell inside the rollback")
        let points = try enumerate(root: template.path) { root in
            try checkInvariants(root, expect: v1, failed: bad)
        }
        #expect(points > 3)
    }

    @Test("two pipelines promoting side by side: killed at each sync of either, each ends deployed and audited once")
    func sideBySide() throws {
        let fixture = try AgentFixture(
            stages: Self.stage(deployed: "deployed", source: "app/version.txt", pause: "0.3"),
            extraConfig: "execution: {maxConcurrentPromotions: 2}\n")
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        let second = AgentFixture.pipeline(
            "other", paths: #"["app2/**"]"#, stages: Self.stage(deployed: "deployed2", source: "app2/version.txt", pause: "0.3"))
        let w1 = try fixture.push("other", files: ["pipelines/other.yaml": second, "app2/version.txt": "w1\n"])
        // Uninterrupted, the two promotions overlap: both start before either ends.
        let plain = try copyOf(fixture.root)
        let run = try runProcess(
            [agentBinary(), "run", "--once", "--config", plain.sub("agent.yaml")], environment: ["PA_ROOT": plain.path])
        #expect(run.status == 0, "\(run.stderr)")
        let order = try auditRecords(plain.path).compactMap { $0["type"] as? String }.filter { $0.hasPrefix("promotion.") }
        #expect(order == ["promotion.started", "promotion.started", "promotion.succeeded", "promotion.succeeded"], "\(order)")
        let points = try enumerate(fixture) { root in
            try checkInvariants(
                root,
                deployed: [
                    Deployment(pipeline: "shop", commit: v1, source: "app/version.txt", file: "deployed"),
                    Deployment(pipeline: "other", commit: w1, source: "app2/version.txt", file: "deployed2"),
                ])
        }
        #expect(points > 15, "the run makes more than 15 syncs (\(points))")
    }

    // MARK: - helpers

    /// For N = 1, 2, …: a copy of the fixture's directory, `run --once` killed at its N-th sync, a
    /// restart, then `check`; stops at the first N the run survives. Returns how many points were tried.
    @discardableResult
    func enumerate(_ fixture: AgentFixture, check: (String) throws -> Void) throws -> Int {
        try enumerate(root: fixture.root, check: check)
    }

    @discardableResult
    func enumerate(root: String, check: (String) throws -> Void) throws -> Int {
        for n in 1...400 {
            let copy = try copyOf(root)
            let killed = try runKilled(at: n, root: copy.path)
            let restart = try runProcess(
                [agentBinary(), "run", "--once", "--config", copy.sub("agent.yaml")], environment: ["PA_ROOT": copy.path])
            #expect(restart.status == 0 || restart.status == 1, "restart after a kill at sync \(n): \(restart.stderr)")
            try check(copy.path)
            if !killed { return n }
        }
        Issue.record("the run never completed within 400 syncs")
        return 400
    }

    /// Copies a fixture directory (its config uses relative paths, so the copy is independent).
    func copyOf(_ root: String) throws -> Scratch {
        let copy = try Scratch("pa-crash")
        try sh("cp", "-a", root + "/.", copy.path)
        return copy
    }

    /// `run --once` killed by SIGKILL at its n-th fsync or fdatasync (of any thread); true when it was.
    func runKilled(at n: Int, root: String) throws -> Bool {
        let result = try runProcess(
            [agentBinary(), "run", "--once", "--config", "\(root)/agent.yaml"],
            environment: try SyncKiller.environment(killing: agentBinary(), at: n).merging(["PA_ROOT": root]) { $1 })
        return result.status == SIGKILL
    }

    func auditRecords(_ root: String, environment: [String: String] = [:]) throws -> [[String: Any]] {
        let result = try runProcess(
            [agentBinary(), "audit", "log", "--output", "json", "--config", "\(root)/agent.yaml"], environment: environment)
        return result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// What a pipeline's only stage, dev, must run after a restart: `commit`'s `source`, copied to `file`.
    struct Deployment {
        let pipeline: String
        let commit: String
        let source: String
        let file: String
    }

    /// The invariants after a crash and a restart: the chain verifies; every announced promotion has
    /// exactly one terminal record; `status` names what is really deployed; a failed candidate is never
    /// started again.
    func checkInvariants(_ root: String, expect current: String, failed: String? = nil) throws {
        try checkInvariants(
            root, deployed: [Deployment(pipeline: "shop", commit: current, source: "app/version.txt", file: "deployed")],
            failed: failed)
    }

    func checkInvariants(
        _ root: String, deployed: [Deployment], failed: String? = nil, environment: [String: String] = [:]
    ) throws {
        let verify = try runProcess(
            [agentBinary(), "audit", "verify", "--config", "\(root)/agent.yaml"], environment: environment)
        #expect(verify.status == 0, "\(verify.stdout)")
        let records = try auditRecords(root, environment: environment)
        var started: [Int: Int] = [:]
        var terminal: [Int: Int] = [:]
        var failedAt: [String: Int] = [:]
        for record in records {
            let type = record["type"] as? String ?? ""
            let seq = record["seq"] as? Int ?? 0
            let candidate = record["candidate"] as? String ?? ""
            guard let id = (record["detail"] as? [String: Any])?["promotionId"] as? Int else { continue }
            if type == "promotion.started" {
                started[id, default: 0] += 1
                #expect(failedAt[candidate] == nil, "candidate \(candidate.prefix(8)) started again after it failed")
            }
            if ["promotion.succeeded", "promotion.failed", "promotion.interrupted"].contains(type) {
                terminal[id, default: 0] += 1
            }
            if type == "promotion.failed" { failedAt[candidate] = seq }
        }
        for (id, count) in terminal { #expect(count == 1, "promotion \(id) has \(count) terminal records") }
        for id in started.keys { #expect(terminal[id] == 1, "promotion \(id) has no terminal record") }
        let status = try runProcess(
            [agentBinary(), "status", "--output", "json", "--config", "\(root)/agent.yaml"], environment: environment)
        let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let pipelines = object?["pipelines"] as? [[String: Any]] ?? []
        for expected in deployed {
            let stages = pipelines.first { $0["name"] as? String == expected.pipeline }?["stages"] as? [[String: Any]]
            let dev = stages?.first { $0["name"] as? String == "dev" }
            #expect(
                dev?["current"] as? String == expected.commit,
                "status names \(dev?["current"] ?? "nothing") as deployed in \(expected.pipeline)")
            let running = try? String(contentsOfFile: "\(root)/\(expected.file)", encoding: .utf8)
            let wanted = try sh("git", "-C", "\(root)/work", "show", "\(expected.commit):\(expected.source)") + "\n"
            #expect(
                running == wanted,
                "status says \(expected.commit.prefix(8)), \(expected.pipeline) runs \(running ?? "nothing")")
        }
        if let failed { #expect(failedAt[failed] != nil, "the bad candidate ends failed") }
    }
}
