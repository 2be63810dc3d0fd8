import Foundation
import GitSource
import Logging
import SpecModel
import TestSupport
import Testing

@testable import Reconciler

/// Runs no process: records each request, writes the scripted output to its log, returns the scripted status.
final class FakeRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [CommandRequest] = []
    /// Exit status and output for a request; by default every command succeeds silently.
    var script: @Sendable (CommandRequest) -> (status: Int32, output: String) = { _ in (0, "") }

    var commands: [(command: String, stage: String, previous: String)] {
        lock.withLock { requests.map { ($0.command, $0.environment["PA_STAGE"] ?? "", $0.environment["PA_PREVIOUS"] ?? "") } }
    }

    func run(_ request: CommandRequest) -> ProcessOutcome {
        lock.withLock { requests.append(request) }
        let (status, output) = script(request)
        _ = FileManager.default.createFile(atPath: request.logPath, contents: Data(output.utf8))
        return ProcessOutcome(ending: .exited(status), duration: .milliseconds(3), droppedBytes: 0)
    }
}

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: String) { current = AuditTime.parse(start) ?? Date(timeIntervalSince1970: 0) }

    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    var reading: @Sendable () -> Date { { [self] in now } }
}

/// A real repository and state directory, a fake runner and a test clock: the loop, the executor and
/// the health monitor in one process, without the binary.
struct InProcessAgent {
    let git: GitFixture
    let session: AgentSession
    let loop: ReconcileLoop
    let runner = FakeRunner()
    let clock = TestClock("2026-12-01T12:00:00Z")

    /// `store` may wrap the SQLite store the agent would use (to watch its writes); it gets the state directory.
    init(stages: String, store: ((SQLiteStateStore, String) -> any StateStore)? = nil) throws {
        git = try GitFixture()
        let spec = """
            apiVersion: pipeline-agent/v1
            kind: Pipeline
            metadata: {name: shop}
            spec:
              source: {branch: main}
              stages:
            \(stages)
            """
        try git.commit("v1", files: ["pipelines/shop.yaml": spec, "app/version.txt": "v1\n"])
        _ = try git.bareClone()
        try git.scratch.write("agent.yaml", "source: {url: ./team.git, branch: main}\nstate: {path: ./state}\n")
        let config = try AgentConfigLoader.load(path: git.scratch.sub("agent.yaml")).get()
        let wrapped = try store.map { $0(try SQLiteStateStore(directory: config.stateDirectory), config.stateDirectory) }
        session = try AgentSession(
            config: config, logger: Logger(label: "test"), clock: clock.reading, runner: runner, store: wrapped)
        loop = try ReconcileLoop(session: session)
        try loop.start()
    }

    func current(_ stage: String) throws -> String? {
        try session.store.stages()[StageKey("shop", stage)]?.current
    }

    func auditTypes() throws -> [String] {
        try AuditReader.records(at: loop.recorder.auditPath).map(\.type)
    }
}

@Suite("The loop, the executor and the health monitor in process, with a fake runner and clock")
struct InProcessLoopTests {
    @Test("dev promotes at once; staging waits for its soak and promotes when the clock passes it")
    func soakFollowsTheClock() throws {
        let agent = try InProcessAgent(
            stages: """
                    - {name: dev, steps: [{name: build, run: build-dev}]}
                    - {name: staging, from: dev, soak: 10m, steps: [{name: build, run: build-staging}]}
                """)
        let first = try agent.loop.runOnce()
        let head = try agent.git.git("rev-parse", "HEAD")
        #expect(first.promotions.map(\.key.stage) == ["dev"])
        #expect(try agent.current("dev") == head)
        #expect(try agent.current("staging") == nil)
        #expect(first.nextWake == agent.clock.now.addingTimeInterval(600), "wakes when the soak ends")
        #expect(agent.runner.commands.map(\.command) == ["build-dev"])

        agent.clock.advance(599)
        let idle = try agent.loop.runOnce()
        #expect(idle.promotions.isEmpty)
        #expect(idle.quiet, "nothing moved and the soak is not over: nothing is planned")
        agent.clock.advance(1)
        let second = try agent.loop.runOnce()
        #expect(!second.quiet)
        #expect(second.promotions.map(\.key.stage) == ["staging"])
        #expect(try agent.current("staging") == head)
        #expect(agent.runner.commands.map(\.stage) == ["dev", "staging"])
        #expect(try agent.loop.runOnce().quiet)
        try agent.git.commit("v2", files: ["app/version.txt": "v2\n"])
        try agent.git.git("push", "-q", agent.git.scratch.sub("team.git"), "main")
        let moved = try agent.loop.runOnce()
        #expect(!moved.quiet && moved.promotions.map(\.key.stage) == ["dev"], "a new commit ends the quiet")
        #expect(
            try AuditVerifier.verify(fileAt: agent.loop.recorder.auditPath, anchor: agent.session.store.auditAnchor()).isIntact)
    }

    @Test("a failing check rolls back with PA_PREVIOUS; one terminal record; the stage stays where it was")
    func failedVerificationRollsBack() throws {
        let agent = try InProcessAgent(
            stages: """
                    - name: dev
                      steps: [{name: deploy, run: deploy}]
                      verify: [{name: smoke, run: smoke}]
                      rollback: [{name: restore, run: restore}]
                """)
        _ = try agent.loop.runOnce()
        let v1 = try agent.git.git("rev-parse", "HEAD")
        try agent.git.commit("v2", files: ["app/version.txt": "v2\n"])
        try agent.git.git("push", "-q", agent.git.scratch.sub("team.git"), "main")
        agent.runner.script = { request in (request.command == "smoke" ? 1 : 0, "") }
        let summary = try agent.loop.runOnce()
        #expect(summary.promotions.map(\.status) == [.rolledBack])
        #expect(try agent.current("dev") == v1)
        let restore = agent.runner.commands.filter { $0.command == "restore" }
        #expect(restore.map(\.previous) == [v1])
        let types = try agent.auditTypes()
        let order = ["verify.failed", "rollback.started", "rollback.finished", "promotion.failed"].compactMap {
            types.lastIndex(of: $0)
        }
        #expect(order.count == 4 && order == order.sorted(), "rollback before the terminal record: \(types)")
        #expect(types.filter { PromotionOutcome.terminalTypes.contains($0) }.count == 2, "one terminal record each")
        let last = try #require(try AuditReader.records(at: agent.loop.recorder.auditPath).last { $0.type == "promotion.failed" })
        #expect(last.detail["status"] == .string("rolled-back"))
        #expect(try agent.loop.runOnce().promotions.isEmpty, "the failed candidate is not retried")
    }

    @Test("health checks run when due by the clock; worst wins; a change is recorded once")
    func healthFollowsTheClock() throws {
        let agent = try InProcessAgent(
            stages: """
                    - name: dev
                      steps: [{name: deploy, run: deploy}]
                      health: {interval: 5m, checks: [{name: lag, run: measure-lag, warnIf: ">10", errorIf: ">100"}]}
                """)
        agent.runner.script = { request in (0, request.command == "measure-lag" ? "50\n" : "") }
        _ = try agent.loop.runOnce()
        let next = try agent.loop.checkHealth(now: agent.clock.now).next
        #expect(try agent.session.store.stages()[StageKey("shop", "dev")]?.health == .warning)
        #expect(next == agent.clock.now.addingTimeInterval(300))
        let checks = { agent.runner.commands.filter { $0.command == "measure-lag" }.count }
        let ran = checks()
        _ = try agent.loop.checkHealth(now: agent.clock.now.addingTimeInterval(60))
        #expect(checks() == ran, "not due yet")
        agent.runner.script = { request in (0, request.command == "measure-lag" ? "500\n" : "") }
        _ = try agent.loop.checkHealth(now: agent.clock.now.addingTimeInterval(300))
        #expect(checks() == ran + 1)
        #expect(try agent.session.store.stages()[StageKey("shop", "dev")]?.health == .critical)
        _ = try agent.loop.checkHealth(now: agent.clock.now.addingTimeInterval(600))
        #expect(try agent.auditTypes().filter { $0 == "health.changed" }.count == 2, "Unknown → Warning → Critical, once each")
    }
}
