import Foundation
import TestSupport
import Testing

/// One agent per state directory, readers next to it, and a damaged state never adopted.
@Suite("The state directory: one writer, honest readers, damage refused")
struct StateDirectoryTests {
    static func slowStage(_ seconds: Int) -> String {
        [
            "    - name: dev", "      steps:",
            #"        - {name: slow, run: 'touch "$PA_ROOT/started"; sleep SECS; cp app/version.txt "$PA_ROOT/deployed"'}"#
                .replacingOccurrences(of: "SECS", with: "\(seconds)"),
        ].joined(separator: "\n")
    }

    @Test("a second agent on a busy state directory exits at once naming the holder, and kills nothing")
    func secondAgentRefused() throws {
        let port = try freeLoopbackPort()
        let fixture = try AgentFixture(
            stages: Self.slowStage(3), extraConfig: "shutdownGrace: 1s\nhttp: {listen: \"127.0.0.1:\(port)\"}\n")
        let env = ["PA_ROOT": fixture.root]
        let first = try RunningAgent(fixture, port: port, environment: env)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/started") { usleep(25_000) }
        let started = Date()
        let second = try fixture.agent("run", "--once", environment: env)
        #expect(second.status != 0)
        #expect(Date().timeIntervalSince(started) < 5, "refused at once, not after waiting")
        #expect(second.stderr.contains("pid \(first.process.processIdentifier)"), "\(second.stderr)")
        #expect(second.stderr.contains("holds the state directory"))
        // Readers work next to it, and status tells the truth about the running promotion.
        #expect(try fixture.agent("status").status == 0)
        #expect(try fixture.status()["dev"]?["phase"] as? String == "Promoting")
        let plan = try fixture.agent("plan", environment: env)
        #expect(plan.status == 0 && plan.stderr.contains("planning from its last fetch"), "\(plan.stderr)")
        let rebuild = try fixture.agent("state", "rebuild")
        #expect(rebuild.status == 1 && rebuild.stderr.contains("holds the state directory"))
        #expect(try fixture.agent("audit", "verify").status == 0)
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: "\(fixture.root)/deployed") { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: "\(fixture.root)/deployed"), "the first agent's step was not killed")
        #expect(first.terminate() == 0)
        let types = try fixture.auditTypes()
        #expect(types.filter { $0 == "promotion.started" }.count == 1)
        #expect(types.filter { $0 == "agent.started" }.count == 1, "the refused agent wrote nothing")
        #expect(try fixture.agent("audit", "verify").status == 0)
        #expect(try fixture.agent("run", "--once", environment: env).status == 0, "the lock dies with its holder")
    }

    @Test("a busy HTTP port fails the start clearly, before any promotion")
    func busyPort() throws {
        let busy = try SilentListener()
        let fixture = try AgentFixture(
            stages: deployStage("dev", strict: false), extraConfig: "http: {listen: \"127.0.0.1:\(busy.port)\"}\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentBinary())
        process.arguments = ["run", "--config", fixture.configPath]
        process.environment = ProcessInfo.processInfo.environment.merging(["PA_ROOT": fixture.root]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus != 0, "exits by itself, non-zero")
        #expect(stderr.contains("cannot listen on http.listen 127.0.0.1:\(busy.port)"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/dev/version.txt"), "nothing was promoted")
    }

    @Test("audit verify while the agent writes: a healthy log is never reported broken")
    func verifyWhileWriting() throws {
        let steps = (1...60).map { #"        - {name: s\#($0), run: 'true'}"# }
        let stage = (["    - name: dev", "      steps:"] + steps).joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentBinary())
        process.arguments = ["run", "--once", "--config", fixture.configPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let database = "\(fixture.root)/state/state.sqlite"
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: database) { usleep(5_000) }
        var runs = 0
        var broken: [String] = []
        while process.isRunning || runs == 0 {
            let verify = try fixture.agent("audit", "verify")
            runs += 1
            if verify.status != 0 { broken.append(verify.stdout) }
        }
        #expect(process.terminationStatus == 0)
        #expect(broken.isEmpty, "\(broken.count) of \(runs) verifications failed: \(broken.first ?? "")")
        #expect(runs > 3, "verified while the agent wrote (\(runs) times)")
    }

    @Test("a deleted, emptied or corrupt state.sqlite next to an audit log: the agent refuses, says how to recover")
    func damagedDatabase() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let database = "\(fixture.root)/state/state.sqlite"
        let log = "\(fixture.root)/state/audit.jsonl"
        let saved = try Data(contentsOf: URL(fileURLWithPath: database))
        let logBefore = try Data(contentsOf: URL(fileURLWithPath: log))
        let damages: [(String, () throws -> Void)] = [
            ("deleted", { try FileManager.default.removeItem(atPath: database) }),
            ("emptied", { try Data().write(to: URL(fileURLWithPath: database)) }),
            ("corrupt", { try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: database)) }),
        ]
        for (name, damage) in damages {
            try damage()
            try? FileManager.default.removeItem(atPath: "\(fixture.root)/dev/version.txt")
            let run = try fixture.agent("run", "--once", environment: env)
            #expect(run.status != 0, "\(name): refused")
            #expect(run.stderr.contains("Damaged state"), "\(name): points at the recovery: \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/dev/version.txt"), "\(name): nothing redeployed")
            #expect(try Data(contentsOf: URL(fileURLWithPath: log)) == logBefore, "\(name): the log is untouched")
            let verify = try fixture.agent("audit", "verify")
            #expect(verify.status == 1 && verify.stdout.contains("NOT checked"), "\(name): \(verify.stdout)")
            #expect(verify.stdout.contains("chain links and hashes intact"))
            try saved.write(to: URL(fileURLWithPath: database))
        }
        #expect(try fixture.agent("audit", "verify").status == 0, "restored: intact again")
    }

    @Test("a cut log plus a deleted database never verifies as intact; status creates no database")
    func cutLogWithoutDatabase() throws {
        let fixture = try AgentFixture(stages: deployStage("dev", strict: false))
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        let log = "\(fixture.root)/state/audit.jsonl"
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast(3).joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(fixture.root)/state/state.sqlite")
        let status = try fixture.agent("status")
        #expect(status.status != 0 && status.stderr.contains("no state database"))
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.root)/state/state.sqlite"), "a reader creates nothing")
        let verify = try fixture.agent("audit", "verify")
        #expect(verify.status == 1)
        #expect(!verify.stdout.contains("chain intact,"))
    }

    @Test("a pipeline invalid from its first commit is in status as Invalid, and run --once fails")
    func invalidFromFirstCommit() throws {
        let fixture = try AgentFixture(stages: "    - name: dev\n      stepz: []")
        let run = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(run.status == 1)
        #expect(run.stderr.contains("pipelines/shop.yaml:"))
        let json = try fixture.agent("status", "--output", "json").stdout
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let shop = (object?["pipelines"] as? [[String: Any]])?.first
        #expect(shop?["name"] as? String == "shop")
        #expect(shop?["phase"] as? String == "Invalid")
        #expect((shop?["reason"] as? String)?.contains("stepz") == true)
        #expect(try fixture.agent("status").stdout.contains("Invalid"))
    }

    @Test("validate and the agent agree on where specs live")
    func specLocation() throws {
        let scratch = try Scratch()
        let spec = """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: shop}
            spec:
              source: {branch: main}
              stages: [{name: dev, steps: [{name: a, run: 'true'}]}]

            """
        try scratch.write("deploy-specs/shop.yaml", spec)
        let misplaced = try runAgent("validate", scratch.path)
        #expect(misplaced.status == 1)
        #expect(misplaced.stdout.contains("deploy-specs/shop.yaml:1:1: error: the agent reads specs only from pipelines/"))
        try FileManager.default.removeItem(atPath: scratch.sub("deploy-specs"))
        try scratch.write("pipelines/shop.yaml", spec)
        #expect(try runAgent("validate", scratch.path).status == 0)
        #expect(try runAgent("validate", scratch.sub("pipelines")).status == 0, "the spec directory itself")
        try scratch.write("ops/broken.yaml", "kind: Pipeline\nmetadata: {name: x\n")
        let broken = try runAgent("validate", scratch.path)
        #expect(broken.status == 1, "a broken file that says kind: Pipeline is reported, not skipped")
        #expect(broken.stdout.contains("ops/broken.yaml"))
    }

    @Test("state rebuild: a lost database is rebuilt from the audit log; nothing is redeployed")
    func rebuildFromLog() throws {
        let fixture = try AgentFixture(stages: RunOnceTests.threeStages(prodExtra: []))
        let env = ["PA_ROOT": fixture.root]
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let v2 = try fixture.push("v2", files: ["app/version.txt": "v2\n"])
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        let before = try fixture.status()
        let database = "\(fixture.root)/state/state.sqlite"
        try FileManager.default.moveItem(atPath: database, toPath: database + ".damaged")
        #expect(try fixture.agent("run", "--once", environment: env).status != 0, "refused without a database")

        let rebuilt = try fixture.agent("state", "rebuild")
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("6 promotions (0 unfinished), 3 stages deployed"), "\(rebuilt.stdout)")
        #expect(try fixture.agent("state", "rebuild").status == 1, "never overwrites a database")
        #expect(try fixture.agent("audit", "verify").status == 0)
        let startedBefore = try fixture.auditTypes().filter { $0 == "promotion.started" }.count
        #expect(try fixture.agent("run", "--once", environment: env).status == 0)
        #expect(try fixture.auditTypes().filter { $0 == "promotion.started" }.count == startedBefore, "nothing redeployed")
        let after = try fixture.status()
        for stage in ["dev", "staging", "prod"] {
            #expect(after[stage]?["current"] as? String == v2)
            #expect(after[stage]?["current"] as? String == before[stage]?["current"] as? String)
        }
    }
}
