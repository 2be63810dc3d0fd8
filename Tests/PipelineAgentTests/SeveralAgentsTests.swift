import Foundation
import TestSupport
import Testing

/// Several real agent processes sharing one real PostgreSQL (issue 15): claims, leases, fencing and takeover.
@Suite("Several agents on one PostgreSQL")
struct SeveralAgentsTests {
    /// One agent process with its own state directory (a host of its own, as far as the agent can tell).
    final class Member: @unchecked Sendable {
        let process = Process()
        let log: String
        let name: String

        init(_ name: String, in root: String, config: String, environment: [String: String]) throws {
            self.name = name
            log = "\(root)/\(name).log"
            let configPath = "\(root)/\(name).yaml"
            try config.replacingOccurrences(of: "STATE", with: "./state-\(name)")
                .write(toFile: configPath, atomically: false, encoding: .utf8)
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: agentBinary())
            process.arguments = ["run", "--config", configPath]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }
        func signal(_ number: Int32) { kill(pid, number) }

        /// SIGTERM, then the exit status.
        func stop() -> Int32 {
            if process.isRunning { kill(pid, SIGTERM) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit { if process.isRunning { kill(pid, SIGKILL) } }
    }

    /// The team repository with `count` pipelines `p01`… (dev → staging), each stage's step holding an flock on
    /// its stage and logging its start and end: two promotions of one stage at once leave a line in `overlaps`.
    static func repository(pipelines count: Int, step: String) throws -> AgentFixture {
        // shop's dev also has a health check every second, which logs each run: a once-only duty.
        let health = """

                  health:
                    interval: 1s
                    checks:
                      - {name: ping, run: 'date +%s%N >> "$PA_ROOT/health-runs"'}
            """
        let shopStages = stages(step).replacingOccurrences(of: "    - name: staging", with: health + "\n    - name: staging")
        let fixture = try AgentFixture(stages: shopStages)
        var files: [String: String] = [:]
        for index in 1...count {
            let name = String(format: "p%02d", index)
            files["pipelines/\(name).yaml"] = AgentFixture.pipeline(name, paths: "[\"\(name)/**\"]", stages: stages(step))
            files["\(name)/x.txt"] = "1\n"
        }
        try fixture.push("\(count) teams", files: files)
        return fixture
    }

    static func stages(_ step: String) -> String {
        let run = step.split(separator: "\n").map { "              " + $0 }.joined(separator: "\n")
        return ["    - name: dev", "    - name: staging\n      from: dev\n      soak: 0s"].map {
            $0 + "\n      steps:\n        - name: deploy\n          run: |\n\(run)"
        }.joined(separator: "\n")
    }

    /// Takes the stage's lock or reports an overlap; logs start and end with the promotion id.
    static let lockedStep = """
        mkdir -p "$PA_ROOT/locks" "$PA_ROOT/runs"
        exec 9>"$PA_ROOT/locks/$PA_PIPELINE-$PA_STAGE"
        if ! flock -n 9; then echo "$PA_PIPELINE/$PA_STAGE #$PA_PROMOTION_ID" >> "$PA_ROOT/overlaps"; exit 1; fi
        echo "start $PA_PROMOTION_ID $(date +%s%N)" >> "$PA_ROOT/runs/$PA_PIPELINE-$PA_STAGE"
        sleep 0.5
        echo "end $PA_PROMOTION_ID $(date +%s%N)" >> "$PA_ROOT/runs/$PA_PIPELINE-$PA_STAGE"
        """

    static func config(_ fixture: AgentFixture, lease: String, poll: String = "1s") -> String {
        """
        source: {url: ./team.git, branch: main, pollInterval: \(poll)}
        state: {path: STATE, postgres: {urlEnv: PA_TEST_DATABASE}}
        execution: {maxConcurrentPromotions: 8}
        ha: {leaseTimeout: \(lease)}
        shutdownGrace: 1s

        """
    }

    /// Once `runs` stages' steps have started, the database goes down as a crash would and comes back after `seconds`.
    static func outage(after runs: Int, seconds: Double, _ fixture: AgentFixture, _ cluster: PostgresCluster) throws {
        let directory = "\(fixture.root)/runs"
        #expect(waitUntil(60) { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).count >= runs })
        try cluster.stop(immediately: true)
        Thread.sleep(forTimeInterval: seconds)
        try cluster.start()
    }

    /// Whether `stages` stages are InSync in `status` within `seconds`.
    static func allInSync(_ stages: Int, within seconds: Double, _ fixture: AgentFixture, _ env: [String: String]) throws -> Bool
    {
        try waitUntil(seconds) {
            let status = try fixture.agent("status", "--output", "json", environment: env).stdout
            return status.components(separatedBy: "\"phase\" : \"InSync\"").count - 1 == stages
        }
    }

    /// The agents' service logs, for a failure's message.
    static func logs(_ members: [Member]) -> String {
        members.map { "\($0.name): \((try? String(contentsOfFile: $0.log, encoding: .utf8)) ?? "")" }.joined(separator: "\n")
    }

    /// The chain exported from the database, one record a line, parsed.
    static func records(_ fixture: AgentFixture, _ env: [String: String]) throws -> [[String: Any]] {
        try fixture.agent("audit", "export", "-o", "jsonl", environment: env).stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(200_000)
        }
        return try condition()
    }

    static let terminal: Set<String> = [
        "promotion.succeeded", "promotion.failed", "promotion.rolled-back", "promotion.interrupted", "promotion.host-failed",
    ]

    @Test(
        "three agents, twenty pipelines: each promotion started and finished once, no stage twice at once, the database restarted under them, one chain that verifies"
    )
    func threeAgentsTwentyPipelines() throws {
        guard let cluster = try PostgresCluster.forTest("three agents, twenty pipelines") else { return }
        let fixture = try Self.repository(pipelines: 20, step: Self.lockedStep)
        let env = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": cluster.url]
        // A restart shorter than the lease (30 s, the default) loses nothing: the next test is the longer outage.
        let config = Self.config(fixture, lease: "30s")
        try config.replacingOccurrences(of: "STATE", with: "./state-reader")
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let agents = try ["a", "b", "c"].map { try Member($0, in: fixture.root, config: config, environment: env) }
        let began = Date()

        // (d) Once promotions are under way, the database goes down (as a crash would) and comes back.
        try Self.outage(after: 6, seconds: 2, fixture, cluster)
        let stageCount = 21 * 2
        let allInSync = try Self.allInSync(stageCount, within: 180, fixture, env)
        let statusText = try fixture.agent("status", environment: env).stdout
        #expect(allInSync, "\(statusText)\n\(Self.logs(agents))")
        let runs = "\(fixture.root)/runs"
        #expect(agents.allSatisfy { $0.process.isRunning }, "every agent carried on after the database restart")

        // (a) Proved by the steps' own side effects: no overlap, one start and one end per stage.
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/overlaps"))
        let files = try FileManager.default.contentsOfDirectory(atPath: runs)
        #expect(files.count == stageCount, "\(files.sorted())")
        for file in files {
            let lines = try String(contentsOfFile: "\(runs)/\(file)", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2 && lines[0].hasPrefix("start") && lines[1].hasPrefix("end"), "\(file): \(lines)")
        }
        // …and by the chain: every promotion announced once and ended once, by agents that shared the work.
        let records = try Self.records(fixture, env)
        var started: [Int: Int] = [:]
        var ended: [Int: Int] = [:]
        var runners = Set<String>()
        for record in records {
            guard let detail = record["detail"] as? [String: Any], let id = detail["promotionId"] as? Int else { continue }
            let type = record["type"] as? String ?? ""
            if type == "promotion.started" {
                started[id, default: 0] += 1
                runners.insert(record["agent"] as? String ?? "")
            }
            if Self.terminal.contains(type) { ended[id, default: 0] += 1 }
            #expect(type != "promotion.started" || record["agent"] != nil, "records carry their agent")
        }
        #expect(started.count == stageCount && started.values.allSatisfy { $0 == 1 }, "\(started)")
        #expect(ended == started, "\(ended)")
        #expect(runners.count >= 2, "the work was shared: \(runners)")
        // Once-only duties: one agent records the passes; a fetched commit is recorded once, not once per agent.
        let passWriters = Set(records.filter { $0["type"] as? String == "plan.changed" }.map { $0["agent"] as? String ?? "" })
        #expect(passWriters.count == 1, "\(passWriters)")
        let fetched = records.filter { $0["type"] as? String == "source.fetched" }.compactMap {
            ($0["detail"] as? [String: Any])?["to"] as? String
        }
        #expect(fetched.count == Set(fetched).count, "\(fetched)")

        // (e) One chain, verified in the database and as an export by the standalone verifier.
        #expect(agents.map { $0.stop() } == [0, 0, 0])
        // Health checks are the coordinator's: at most one run a second, not one per agent.
        let seconds = Date().timeIntervalSince(began)
        let checks =
            (try? String(contentsOfFile: "\(fixture.root)/health-runs", encoding: .utf8))?.split(separator: "\n").count ?? 0
        #expect(checks >= 1 && Double(checks) <= seconds + 2, "\(checks) health checks in \(seconds) s")
        let verify = try fixture.agent("audit", "verify", environment: env)
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")
        let status = try fixture.agent("status", environment: env).stdout
        #expect(status.components(separatedBy: " stopped, ").count - 1 == 3, "\(status)")
    }

    /// Blocks the first time a candidate is promoted (a step that outlives its agent), passes the second time.
    static let blockingStage = """
            - name: dev
              steps:
                - name: deploy
                  run: |
                    if mkdir "$PA_ROOT/once-$PA_CANDIDATE" 2>/dev/null; then
                      echo $$ > "$PA_ROOT/blocked-$PA_CANDIDATE"
                      exec sleep 121
                    fi
                    echo "$PA_CANDIDATE" > "$PA_ROOT/deployed"
              rollback:
                - {name: restore, run: 'echo "$PA_PROMOTION_ID" >> "$PA_ROOT/rollbacks"'}
        """

    /// The agent running a promotion now, as `status` names it (instance and pid), and the promotion's id.
    static func runner(_ fixture: AgentFixture, _ env: [String: String]) throws -> (instance: String, pid: Int32, id: Int)? {
        // Until the first agent made the tables, status fails: nobody runs anything yet.
        let json = try fixture.agent("status", "--output", "json", environment: env).stdout
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        for agent in object?["agents"] as? [[String: Any]] ?? [] {
            guard agent["state"] as? String == "live", let running = (agent["running"] as? [String])?.first,
                let id = running.split(separator: "#").last.flatMap({ Int($0) }), let pid = agent["pid"] as? Int
            else { continue }
            return (agent["instance"] as? String ?? "", Int32(pid), id)
        }
        return nil
    }

    /// The terminal record of promotion `id`, when written.
    static func terminalRecord(_ id: Int, _ fixture: AgentFixture, _ env: [String: String]) throws -> [String: Any]? {
        try records(fixture, env).first { record in
            terminal.contains(record["type"] as? String ?? "")
                && (record["detail"] as? [String: Any])?["promotionId"] as? Int == id
        }
    }

    @Test(
        "SIGKILL of the agent running a step: another recovers it within lease + poll; SIGSTOP past the lease: the agent writes nothing more for it and rejoins"
    )
    func takeoverAndFencing() throws {
        guard let cluster = try PostgresCluster.forTest("takeover and fencing") else { return }
        let fixture = try AgentFixture(stages: Self.blockingStage)
        defer {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: fixture.root)) ?? []
            where file.hasPrefix("blocked-") {
                if let pid = try? String(contentsOfFile: "\(fixture.root)/\(file)", encoding: .utf8) {
                    kill(Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, SIGKILL)
                }
            }
        }
        let env = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": cluster.url]
        let config = Self.config(fixture, lease: "4s")
        try config.replacingOccurrences(of: "STATE", with: "./state-reader")
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        var members = try ["a", "b"].map { try Member($0, in: fixture.root, config: config, environment: env) }

        // (b) The agent whose step runs dies at once; the step outlives it.
        var found: (instance: String, pid: Int32, id: Int)?
        #expect(
            try Self.waitUntil(30) {
                found = try Self.runner(fixture, env); return found != nil
            })
        let first = try #require(found)
        // Its step is under way (not only its claim): the step left its pid.
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(Self.waitUntil(20) { FileManager.default.fileExists(atPath: "\(fixture.root)/blocked-\(v1)") })
        let killed = try #require(members.first { $0.pid == first.pid })
        killed.signal(SIGKILL)
        let diedAt = Date()
        var ended: [String: Any]?
        #expect(
            try Self.waitUntil(20) {
                ended = try Self.terminalRecord(first.id, fixture, env); return ended != nil
            })
        let took = Date().timeIntervalSince(diedAt)
        print("takeover: promotion #\(first.id) recorded interrupted \(String(format: "%.1f", took)) s after its agent's SIGKILL")
        #expect(took < 4 + 1 + 3, "recovered \(took) s after the SIGKILL (lease 4 s, poll 1 s)")
        #expect(
            ended?["type"] as? String == "promotion.interrupted" && ended?["agent"] as? String != first.instance,
            "\(ended ?? [:])")
        #expect(try String(contentsOfFile: "\(fixture.root)/rollbacks", encoding: .utf8) == "\(first.id)\n", "rolled back once")
        let retried = try Self.waitUntil(20) { try fixture.status(environment: env)["dev"]?["phase"] as? String == "InSync" }
        #expect(retried, "\(Self.logs(members))")
        members.removeAll { $0 === killed }

        // (c) A third agent joins; the next promotion's agent is stopped past its lease, then continued.
        members.append(try Member("c", in: fixture.root, config: config, environment: env))
        let pushed = try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        found = nil
        #expect(
            try Self.waitUntil(30) {
                found = try Self.runner(fixture, env); return found.map { $0.id != first.id } ?? false
            })
        let second = try #require(found)
        #expect(Self.waitUntil(20) { FileManager.default.fileExists(atPath: "\(fixture.root)/blocked-\(pushed)") })
        let stopped = try #require(members.first { $0.pid == second.pid })
        stopped.signal(SIGSTOP)
        #expect(try Self.waitUntil(20) { try Self.terminalRecord(second.id, fixture, env) != nil })
        #expect(try Self.waitUntil(20) { try fixture.status(environment: env)["dev"]?["current"] as? String == pushed })
        let takenAt = try Self.records(fixture, env).count
        stopped.signal(SIGCONT)
        let blocked = try String(contentsOfFile: "\(fixture.root)/blocked-\(pushed)", encoding: .utf8)
        let stepPid = Int32(blocked.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(Self.waitUntil(15) { kill(stepPid, 0) != 0 }, "the continued agent stopped the step it no longer owns")
        var rejoined = false
        #expect(
            try Self.waitUntil(15) {
                let json = try fixture.agent("status", "--output", "json", environment: env).stdout
                rejoined = json.contains("\"instance\" : \"\(second.instance.dropLast(2)).2\"")
                return rejoined
            })
        let after = try Self.records(fixture, env).dropFirst(takenAt)
        let written = after.filter { $0["agent"] as? String == second.instance }
        #expect(written.isEmpty, "the fenced agent wrote after losing its lease: \(written)")
        #expect(stopped.process.isRunning, "it rejoined instead of exiting")
        #expect(members.map { $0.stop() } == [0, 0])
        let verify = try fixture.agent("audit", "verify", environment: env)
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")
    }

    @Test("the database away for longer than the lease: the agents rejoin, recover each other's promotions and carry on")
    func outageLongerThanTheLease() throws {
        guard let cluster = try PostgresCluster.forTest("an outage longer than the lease") else { return }
        let slowStep = Self.lockedStep.replacingOccurrences(of: "sleep 0.5", with: "sleep 2")
        let fixture = try Self.repository(pipelines: 5, step: slowStep)
        let env = ["PA_ROOT": fixture.root, "PA_TEST_DATABASE": cluster.url]
        let config = Self.config(fixture, lease: "3s")
        try config.replacingOccurrences(of: "STATE", with: "./state-reader")
            .write(toFile: fixture.configPath, atomically: false, encoding: .utf8)
        let agents = try ["a", "b"].map { try Member($0, in: fixture.root, config: config, environment: env) }
        try Self.outage(after: 2, seconds: 6, fixture, cluster)
        #expect(try Self.allInSync(6 * 2, within: 120, fixture, env), "\(Self.logs(agents))")
        #expect(agents.allSatisfy { $0.process.isRunning }, "\(Self.logs(agents))")
        let logs = Self.logs(agents)
        #expect(agents.map { $0.stop() } == [0, 0], "\(logs)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/overlaps"))
        var started: [Int: Int] = [:]
        var ended: [Int: Int] = [:]
        for record in try Self.records(fixture, env) {
            guard let id = (record["detail"] as? [String: Any])?["promotionId"] as? Int else { continue }
            if record["type"] as? String == "promotion.started" { started[id, default: 0] += 1 }
            if Self.terminal.contains(record["type"] as? String ?? "") { ended[id, default: 0] += 1 }
        }
        // A claim whose `promotion.started` the outage cut off ends interrupted without having started (nothing ran).
        #expect(started.values.allSatisfy { $0 == 1 } && ended.values.allSatisfy { $0 == 1 }, "\(started) \(ended)")
        #expect(Set(started.keys).isSubset(of: Set(ended.keys)), "started \(started), ended \(ended)")
        let verify = try fixture.agent("audit", "verify", environment: env)
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")
    }
}
