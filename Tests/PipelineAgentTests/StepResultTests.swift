import Foundation
import TestSupport
import Testing

@Suite("Step results: only what may pass next time is retried")
struct StepResultTests {
    @Test("a step that cannot start is not retried; a flaky one is")
    func cannotStartIsTerminal() throws {
        let stage = [
            "    - name: dev", "      steps:",
            "        - {name: nowhere, run: 'true', workdir: no/such/dir, retries: 2}",
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let started = Date()
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 1)
        let types = try fixture.auditTypes()
        #expect(types.filter { $0 == "step.started" }.count == 1, "not retried: \(types)")
        #expect(Date().timeIntervalSince(started) < 2.5, "no backoff sleeps")
        let log = try fixture.agent("audit", "log", "--output", "json").stdout
        #expect(log.contains("could not start"))
    }

    @Test("a step that leaves a background process behind: the agent does not wait for it, and it dies with the step")
    func leftoverDoesNotHang() throws {
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: serve, run: 'sleep 40 & echo $! > "$PA_ROOT/leftover.pid"; echo started', timeout: 5s}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let started = Date()
        let result = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 10, "took \(Date().timeIntervalSince(started))s")
        let pid = try String(contentsOfFile: "\(fixture.root)/leftover.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!isRunning(pid), "the leftover died with its step")
    }
}
