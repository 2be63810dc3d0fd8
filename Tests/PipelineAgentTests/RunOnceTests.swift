import Foundation
import TestSupport
import Testing

@Suite("run --once end to end: real git, real processes, real SQLite")
struct RunOnceTests {
    static let rollback = [
        "rollback:",
        #"  - {name: restore, run: 'git -C "$PA_ROOT/work" show "$PA_PREVIOUS:app/version.txt" > "$PA_ROOT/staging/version.txt"'}"#,
    ]

    static func threeStages(
        prodExtra: [String] = ["promotion: manual", "approvals: {required: 1, approvers: [alice@acme.test]}"]
    ) -> String {
        [
            deployStage("dev", strict: false), deployStage("staging", from: "dev", extra: rollback),
            deployStage("prod", from: "staging", extra: prodExtra),
        ].joined(separator: "\n")
    }

    @Test("a commit reaches dev and staging in one run; prod waits; a bad change is rolled back; a fix clears it")
    func promotionStory() throws {
        let fixture = try AgentFixture(stages: Self.threeStages())
        let env = ["PA_ROOT": fixture.root]
        let first = try fixture.agent("run", "--once", environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("shop/dev:") && first.stdout.contains("shop/staging:"))
        var stages = try fixture.status()
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(stages["dev"]?["current"] as? String == v1)
        #expect(stages["staging"]?["current"] as? String == v1)
        #expect(stages["prod"]?["phase"] as? String == "WaitingApproval")
        #expect(stages["prod"]?["current"] is NSNull)

        try fixture.push("bad change", files: ["app/version.txt": "v2 bad\n"])
        let bad = try fixture.agent("run", "--once", environment: env)
        #expect(bad.status == 1)
        stages = try fixture.status()
        #expect(stages["staging"]?["current"] as? String == v1)
        #expect(stages["staging"]?["phase"] as? String == "Failed")
        #expect(try String(contentsOfFile: "\(fixture.root)/staging/version.txt", encoding: .utf8) == "v1\n")
        let types = try fixture.auditTypes()
        #expect(types.contains("rollback.finished") && types.contains("verify.failed"))

        let again = try fixture.agent("run", "--once", environment: env)
        #expect(again.status == 0)
        #expect(!again.stdout.contains("shop/staging"))

        let fix = try fixture.push("fix", files: ["app/version.txt": "v3\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        stages = try fixture.status()
        #expect(stages["staging"]?["current"] as? String == fix)
        #expect(stages["staging"]?["phase"] as? String == "InSync")
        #expect(try fixture.agent("audit", "verify").status == 0)
    }

    @Test("a commit outside source.paths creates no candidate")
    func outsidePaths() throws {
        let fixture = try AgentFixture(stages: deployStage("dev"))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let before = try fixture.status()["dev"]?["current"] as? String
        try fixture.push("docs only", files: ["docs/readme.md": "hello"])
        let result = try fixture.agent("run", "--once", environment: env)
        #expect(!result.stdout.contains("shop/dev"))
        #expect(try fixture.status()["dev"]?["current"] as? String == before)
    }

    @Test("a hanging step is killed at its timeout, with everything it started")
    func hangingStep() throws {
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: hang, run: 'sleep 300 & echo $! > "$PA_ROOT/child.pid"; sleep 300', timeout: 1s}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let started = Date()
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 30)
        let child = try String(contentsOfFile: "\(fixture.root)/child.pid", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(!isRunning(child), "the background child must be gone too")
        let log = try fixture.agent("audit", "log").stdout
        #expect(log.contains("step hang timed out after 1s"))
    }

    @Test("pin rolls a stage back to an older candidate")
    func pinRollsBack() throws {
        let fixture = try AgentFixture(stages: Self.threeStages(prodExtra: []))
        let env = ["PA_ROOT": fixture.root]
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let v2 = try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["prod"]?["current"] as? String == v2)

        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        try fixture.push("pin prod", files: ["pipelines/shop.yaml": spec + "\n      pin: \(v1)\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["prod"]?["current"] as? String == v1)
        #expect(try String(contentsOfFile: "\(fixture.root)/prod/version.txt", encoding: .utf8) == "v1\n")
    }

    @Test("freeze blocks a stage")
    func freeze() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", extra: ["freeze: true"]))
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let dev = try fixture.status()["dev"]
        #expect(dev?["phase"] as? String == "Frozen")
        #expect(dev?["current"] is NSNull)
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/dev/version.txt"))
    }

    @Test("an invalid spec at the head keeps the last valid one in force and reports Invalid")
    func invalidSpecAtHead() throws {
        let fixture = try AgentFixture(stages: deployStage("dev"))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        try fixture.push(
            "break spec",
            files: ["pipelines/shop.yaml": spec.replacingOccurrences(of: "steps:", with: "stepz:"), "app/version.txt": "v2\n"])
        let result = try fixture.agent("run", "--once", environment: env)
        #expect(result.status == 1, "a CI job running run --once must not go green on an invalid spec")
        #expect(result.stderr.contains("pipelines/shop.yaml:") && result.stderr.contains("unknown key 'stepz'"))
        let dev = try fixture.status()["dev"]
        #expect(dev?["phase"] as? String == "Invalid")
        #expect((dev?["reason"] as? String)?.contains("unknown key 'stepz'") == true)
        #expect(try String(contentsOfFile: "\(fixture.root)/dev/version.txt", encoding: .utf8) == "v1\n")
        #expect(try fixture.agent("run", "--once", environment: env).status == 1)
        #expect(try fixture.auditTypes().filter { $0 == "spec.invalid" }.count == 1, "once per change, across processes")
    }
}

/// Whether a process is alive (a zombie waiting for its parent to reap it is not).
func isRunning(_ pid: String) -> Bool {
    for _ in 0..<40 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        if state == "Z" { return false }
        usleep(50_000)
    }
    return true
}

@Suite("The stage-level promotion timeout")
struct PromotionTimeoutTests {
    @Test("a promotion that runs longer than the stage's timeout fails and is rolled back")
    func stageTimeout() throws {
        let stage = [
            "    - name: dev", "      timeout: 1s", "      steps:",
            "        - {name: first, run: 'sleep 0.2'}",
            "        - {name: slow, run: 'sleep 30', timeout: 10m}",
            "      rollback:",
            #"        - {name: undo, run: 'touch "$PA_ROOT/rolled-back"'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let started = Date()
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/rolled-back"))
        let dev = try fixture.status()["dev"]
        #expect(dev?["phase"] as? String == "Failed")
        #expect((dev?["reason"] as? String)?.contains("promotion timeout 1s exceeded during step slow") == true)
    }
}

@Suite("Verification and retries inside a real promotion")
struct PromotionVerificationTests {
    @Test("a run_results.json committed to the repository is stale, never a pass")
    func committedResultsAreStale() throws {
        let stage = [
            "    - name: dev", "      steps:", "        - {name: noop, run: 'true'}", "      verify:",
            "        - {name: dbt-tests, dbtResults: app/target/run_results.json}",
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        try fixture.push(
            "commit old results",
            files: [
                "app/target/run_results.json":
                    #"{"metadata": {}, "results": [{"unique_id": "test.a", "status": "pass", "failures": 0}]}"#
            ])
        let result = try fixture.agent("run", "--once")
        #expect(result.status == 1)
        #expect((try fixture.status()["dev"]?["reason"] as? String)?.contains("is stale") == true)
    }

    @Test("a failing step is retried with backoff and the promotion succeeds on the second attempt")
    func retries() throws {
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: flaky, retries: 2, run: 'n=$(cat "$PA_ROOT/n" 2>/dev/null || echo 0); echo $((n+1)) > "$PA_ROOT/n"; [ "$n" -ge 1 ]'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let started = Date()
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Date().timeIntervalSince(started) >= 1, "one backoff of a second between attempts")
        let log = try fixture.agent("audit", "log", "--output", "json").stdout
        let attempts = log.split(separator: "\n").filter { $0.contains(#""type":"step.finished""#) }
        #expect(attempts.count == 2)
        #expect(attempts.first?.contains(#""result":"failed""#) == true)
        #expect(attempts.last?.contains(#""result":"succeeded""#) == true)
    }
}

@Suite("plan changes nothing")
struct PlanIsReadOnlyTests {
    @Test("plan leaves the state store and the audit log as they were")
    func readOnly() throws {
        let fixture = try AgentFixture(stages: deployStage("dev"))
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        try fixture.push(
            "v2 with a changed spec",
            files: [
                "app/version.txt": "v2\n",
                "pipelines/shop.yaml": spec.replacingOccurrences(
                    of: "metadata: {name: shop}", with: "metadata: {name: shop, description: v2}"),
            ])
        let database = "\(fixture.root)/state/state.sqlite"
        let dump = { try sh("sqlite3", database, ".dump stages promotions valid_specs plan_pipelines audit_anchor") }
        let before = try dump()
        let log = try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8)
        let plan = try fixture.agent("plan")
        #expect(plan.stdout.contains("will promote"))
        #expect(try dump() == before)
        #expect(try String(contentsOfFile: "\(fixture.root)/state/audit.jsonl", encoding: .utf8) == log)
    }
}

@Suite("History rewritten by a force-push")
struct ForcePushTests {
    @Test("a candidate that vanished from the branch is never promoted downstream")
    func vanishedCandidate() throws {
        let stages = [
            deployStage("dev", strict: false),
            deployStage("staging", from: "dev", strict: false, extra: ["freeze: true"]),
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stages)
        let env = ["PA_ROOT": fixture.root]
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        let doomed = try fixture.push("doomed", files: ["app/version.txt": "doomed\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.status()["dev"]?["current"] as? String == doomed)

        try fixture.git.git("reset", "-q", "--hard", v1)
        try fixture.git.git("push", "-q", "--force", fixture.remote, "main")
        let spec = try String(contentsOfFile: "\(fixture.git.path)/pipelines/shop.yaml", encoding: .utf8)
        try fixture.push(
            "unfreeze", files: ["pipelines/shop.yaml": spec.replacingOccurrences(of: "freeze: true", with: "freeze: false")])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let stagesNow = try fixture.status()
        #expect(stagesNow["staging"]?["current"] as? String == v1, "staging takes a candidate still on the branch")
        #expect(stagesNow["staging"]?["desired"] as? String != doomed)
        #expect(stagesNow["dev"]?["current"] as? String == v1, "dev follows the rewritten branch back")
    }
}

@Suite("An unreachable source")
struct SourceFailureTests {
    @Test("the failure shows in status and once in the audit log; the last good state stays")
    func unreachable() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let current = try fixture.status()["dev"]?["current"] as? String
        try FileManager.default.moveItem(atPath: fixture.remote, toPath: fixture.remote + ".gone")
        for _ in 0..<2 { #expect(try fixture.agent("run", "--once", environment: env).status == 1) }
        let status = try fixture.agent("status", "--output", "json").stdout
        let object = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
        let source = object?["source"] as? [String: Any]
        #expect((source?["lastError"] as? String)?.contains("no such path") == true)
        // RFC 3339, not Foundation's seconds since 2001 (817426207.592 before the fix).
        let lastFetch = try #require(source?["lastFetch"] as? String, "\(source ?? [:])")
        let parsed = try Date(lastFetch, strategy: .iso8601)
        #expect(abs(parsed.timeIntervalSinceNow) < 600, "\(lastFetch)")
        #expect(try fixture.status()["dev"]?["current"] as? String == current)
        #expect(
            try fixture.auditTypes().filter { $0 == "source.failed" }.count == 1,
            "once per change of the error, across runs")
        try FileManager.default.moveItem(atPath: fixture.remote + ".gone", toPath: fixture.remote)
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let healed =
            try JSONSerialization.jsonObject(with: Data(try fixture.agent("status", "--output", "json").stdout.utf8))
            as? [String: Any]
        #expect((healed?["source"] as? [String: Any])?["lastError"] == nil)
    }
}

@Suite("Start-up verifies the audit log's tail; the older records in the background")
struct AuditStartTests {
    @Test("an old record edited without moving a byte: run --once acts on nothing more and exits 1 naming the seq")
    func oldTamperingFailsRunOnce() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let path = "\(fixture.root)/state/audit.jsonl"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[0].contains("\"agent.started\""))
        lines[0] = lines[0].replacingOccurrences(of: "\"main\"", with: "\"mair\"")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let run = try fixture.agent("run", "--once", environment: env)
        #expect(run.status != 0)
        #expect(run.stderr.contains("failed verification at seq 1: hash mismatch"), "\(run.stderr)")
        let verify = try fixture.agent("audit", "verify")
        #expect(verify.status == 1 && verify.stdout.contains("seq 1"))
    }
}

@Suite("Step logs are kept for state.logRetention")
struct LogRetentionTests {
    @Test("logs older than the retention are recorded as pruned, then removed; newer ones and the default 90d keep them")
    func prunesOldLogs() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        let env = ["PA_ROOT": fixture.root]
        let logs = "\(fixture.root)/state/logs"
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        try sh("touch", "-d", "40 days ago", "\(logs)/1")
        try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(FileManager.default.fileExists(atPath: "\(logs)/1"), "the default retention is 90 days")

        try fixture.git.scratch.write(
            "agent.yaml", "source: {url: ./team.git, branch: main}\nstate: {path: ./state, logRetention: 30d}\n")
        let validate = try runAgent("validate", "--config", fixture.configPath, fixture.git.path)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(logs)/1"))
        #expect(FileManager.default.fileExists(atPath: "\(logs)/2"))
        let log = try fixture.agent("audit", "log", "--output", "json").stdout
        let pruned = log.split(separator: "\n").filter { $0.contains("\"logs.pruned\"") }
        #expect(pruned.count == 1 && pruned[0].contains("\"promotions\":[1]"), "\(pruned)")
        #expect(try fixture.agent("audit", "verify").status == 0)
    }
}
