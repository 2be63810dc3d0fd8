import Foundation
import TestSupport
import Testing

@Suite("An agent killed in the middle of a step")
struct CrashRecoveryTests {
    @Test(
        "SIGKILL during a step: on restart the promotion is interrupted, rollback runs, leftovers die, the candidate is retried once"
    )
    func killMidStep() throws {
        let stage = [
            "    - name: dev", "      steps:",
            // Slow only the first time, so that the retry after the restart finishes.
            #"        - {name: slow, run: 'if [ ! -e "$PA_ROOT/started" ]; then echo $$ > "$PA_ROOT/step.pid"; touch "$PA_ROOT/started"; sleep 60; fi'}"#,
            "      rollback:",
            #"        - {name: undo, run: 'echo "rolled back, previous=[$PA_PREVIOUS]" > "$PA_ROOT/rollback.txt"'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentBinary())
        process.arguments = ["run", "--once", "--config", fixture.configPath]
        process.environment = ProcessInfo.processInfo.environment.merging(["PA_ROOT": fixture.root]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let started = "\(fixture.root)/started"
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: started) { usleep(50_000) }
        #expect(FileManager.default.fileExists(atPath: started))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let stepPID = try String(contentsOfFile: "\(fixture.root)/step.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(isRunning(stepPID), "the orphaned step keeps running until the agent comes back")

        let restart = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root, "PA_SKIP": "1"])
        #expect(!isRunning(stepPID))
        #expect(try String(contentsOfFile: "\(fixture.root)/rollback.txt", encoding: .utf8) == "rolled back, previous=[]\n")
        let types = try fixture.auditTypes()
        #expect(types.contains("promotion.interrupted"))
        #expect(types.contains("rollback.finished"))
        #expect(try fixture.agent("audit", "verify").status == 0)
        #expect(restart.status == 0)
        let dev = try fixture.status()["dev"]
        #expect(dev?["phase"] as? String == "InSync", "the interrupted candidate is retried once after the restart")
        #expect(types.filter { $0 == "promotion.succeeded" }.count == 1)
    }
}
