import Foundation
import TestSupport
import Testing

/// Several pipelines promoted by one agent at the same time.
@Suite("Promotions side by side in one agent")
struct ConcurrencyTests {
    /// A dev stage whose step passes only if the steps of all `pipelines` are running at the same time:
    /// each marks that it started, then waits (at most `seconds`) for the others' marks.
    static func barrierStage(_ pipelines: [String], seconds: Int) -> String {
        let others = pipelines.map { #"[ -e "$PA_ROOT/started-\#($0)" ]"# }.joined(separator: " && ")
        let script =
            #"touch "$PA_ROOT/started-$PA_PIPELINE"; i=0; while [ $i -lt \#(seconds * 10) ]; do "#
            + #"if \#(others); then exit 0; fi; sleep 0.1; i=$((i+1)); done; exit 1"#
        return "    - name: dev\n      steps:\n        - {name: meet, run: '\(script)'}"
    }

    /// `shop` (from the fixture) and `b`, `c` watching their own directories, all with `stage`.
    static func threePipelines(stage: String, config: String = "") throws -> AgentFixture {
        let fixture = try AgentFixture(stages: stage, extraConfig: config)
        try fixture.push(
            "two more teams",
            files: [
                "pipelines/b.yaml": AgentFixture.pipeline("b", paths: #"["b/**"]"#, stages: stage), "b/x.txt": "1\n",
                "pipelines/c.yaml": AgentFixture.pipeline("c", paths: #"["c/**"]"#, stages: stage), "c/x.txt": "1\n",
            ])
        return fixture
    }

    @Test("three pipelines' steps run at the same time; with maxConcurrentPromotions: 1 they cannot meet")
    func sideBySide() throws {
        let stage = Self.barrierStage(["shop", "b", "c"], seconds: 20)
        let fixture = try Self.threePipelines(stage: stage)
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for pipeline in ["shop", "b", "c"] {
            #expect(result.stdout.contains("\(pipeline)/dev:") && !result.stdout.contains("failed"), "\(result.stdout)")
        }
        #expect(try fixture.agent("audit", "verify").status == 0, "one chain, interleaved")

        let serial = try Self.threePipelines(
            stage: Self.barrierStage(["shop", "b", "c"], seconds: 2), config: "execution: {maxConcurrentPromotions: 1}\n")
        let alone = try serial.agent("run", "--once", environment: ["PA_ROOT": serial.root])
        #expect(alone.status == 1, "one at a time, the steps cannot meet: \(alone.stdout)")
        // The first two wait alone and fail; the last finds the marks the first two left when they ended.
        #expect(alone.stdout.components(separatedBy: "failed").count - 1 == 2, "\(alone.stdout)")
    }

    @Test("a push to B starts B's step within 2 s of its webhook while A's long step runs; SIGTERM interrupts A")
    func pushWhileAnotherRuns() throws {
        let port = try freeLoopbackPort()
        let slow = #"    - name: dev\n      steps:\n        - {name: slow, run: 'touch "$PA_ROOT/a-started"; sleep 60'}"#
            .replacingOccurrences(of: "\\n", with: "\n")
        let quick = #"    - name: dev\n      steps:\n        - {name: quick, run: 'touch "$PA_ROOT/b-$PA_CANDIDATE"'}"#
            .replacingOccurrences(of: "\\n", with: "\n")
        let fixture = try AgentFixture(
            stages: slow,
            extraConfig: "shutdownGrace: 1s\nhttp: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n")
        try fixture.push(
            "team b",
            files: ["pipelines/b.yaml": AgentFixture.pipeline("b", paths: #"["b/**"]"#, stages: quick), "b/x.txt": "1\n"])
        try fixture.git.scratch.write(
            "agent.yaml",
            "source: {url: ./team.git, branch: main, pollInterval: 1h}\nstate: {path: ./state}\nshutdownGrace: 1s\n"
                + "http: {listen: \"127.0.0.1:\(port)\", webhookSecretEnv: PA_TEST_HOOK}\n")
        let agent = try RunningAgent(fixture, port: port, environment: ["PA_ROOT": fixture.root, "PA_TEST_HOOK": "s3cret"])
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: "\(fixture.root)/a-started") { usleep(25_000) }
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/a-started"))

        let pushed = try fixture.push("b v2", files: ["b/x.txt": "2\n"])
        let sent = Date()
        let hook = try agent.curl(
            "-X", "POST", "-H", "X-Gitlab-Token: s3cret", "-d", "{\"object_kind\":\"push\",\"after\":\"\(pushed)\"}",
            "http://127.0.0.1:\(port)/hooks/git")
        #expect(hook.code == "202")
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: "\(fixture.root)/b-\(pushed)") { usleep(10_000) }
        let took = Date().timeIntervalSince(sent)
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/b-\(pushed)"), "B's step ran")
        #expect(took < 2, "B's step started \(took) s after its webhook")
        #expect(try !Self.shopFinished(fixture), "A still runs")

        #expect(agent.terminate() == 0)
        let records = try Self.records(fixture)
        let interrupted = records.filter { $0["type"] as? String == "promotion.interrupted" }
        #expect(interrupted.map { $0["pipeline"] as? String } == ["shop"], "A's promotion recorded as interrupted")
        #expect(records.last?["type"] as? String == "agent.stopped")
        #expect(try fixture.agent("audit", "verify").status == 0)
    }

    static func records(_ fixture: AgentFixture) throws -> [[String: Any]] {
        try fixture.agent("audit", "log", "--output", "json").stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func shopFinished(_ fixture: AgentFixture) throws -> Bool {
        try records(fixture).contains { $0["type"] as? String == "step.finished" && $0["pipeline"] as? String == "shop" }
    }

    @Test("two pipelines whose steps run as one OS user never run at the same time (root only)")
    func oneUserAtATime() throws {
        if let reason = TestStepUsers.concurrency.ensure() {
            print("skipped: \(reason)")
            return
        }
        let shared = try Scratch("pa-shared")
        chmod(shared.path, 0o1777)
        let script =
            #"if mkdir "$SHARED/busy" 2>/dev/null; then sleep 1; rmdir "$SHARED/busy"; "#
            + #"else touch "$SHARED/overlap-$PA_PIPELINE"; fi; touch "$SHARED/done-$PA_PIPELINE""#
        let stage = "    - name: dev\n      vars: {SHARED: \(shared.path)}\n      steps:\n        - {name: s, run: '\(script)'}"
        let fixture = try AgentFixture(
            stages: stage, extraConfig: "execution: {stepUser: \(TestStepUsers.concurrency.step), requireIsolation: true}\n")
        try fixture.push(
            "team b",
            files: ["pipelines/b.yaml": AgentFixture.pipeline("b", paths: #"["b/**"]"#, stages: stage), "b/x.txt": "1\n"])
        let result = try fixture.agent("run", "--once")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: shared.path)
        #expect(Set(entries) == ["done-shop", "done-b"], "both ran, never together: \(entries)")
    }

    @Test("run --once promotes every stage of 110 pipelines once (220 promotions, more than its 100 passes)")
    func manyPromotionsInOneRun() throws {
        let repo = try GeneratedRepository(pipelines: 110, commits: 0, touch: "round-robin")
        let result = try repo.agent("run", "--once")
        #expect(result.status == 0, "\(result.stderr)")
        let succeeded = result.stdout.split(separator: "\n").filter { $0.hasSuffix(" succeeded") }
        #expect(succeeded.count == 220, "\(succeeded.count) promotions succeeded")
        #expect(Set(succeeded).count == 220, "no stage promoted twice")
        let again = try repo.agent("run", "--once")
        #expect(again.status == 0 && !again.stdout.contains("succeeded"), "nothing left for a second run: \(again.stdout)")
    }
}
