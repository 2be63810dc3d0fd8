import Foundation
import Logging
import SpecModel
import TestSupport
import Testing

@testable import Reconciler

/// Forwards to the real SQLite store and notes, for each write, the audit log's last record at that moment.
final class WriteWatchingStore: StateStore, @unchecked Sendable {
    private let inner: SQLiteStateStore
    private let auditPath: String
    private let lock = NSLock()
    private var seen: [(write: String, lastRecord: AuditRecord?, types: [String])] = []

    init(_ inner: SQLiteStateStore, auditPath: String) {
        self.inner = inner
        self.auditPath = auditPath
    }

    /// Each write, the log's last record then, and the types of every record then.
    var writes: [(write: String, lastRecord: AuditRecord?, types: [String])] { lock.withLock { seen } }

    private func note(_ write: String) {
        let records = (try? AuditReader.records(at: auditPath)) ?? []
        lock.withLock { seen.append((write, records.last, records.map(\.type))) }
    }

    func stages() throws -> [StageKey: StageRecord] { try inner.stages() }
    func promotions() throws -> [PromotionRecord] { try inner.promotions() }
    func retries() throws -> [RetryRecord] { try inner.retries() }
    func stagesAndPromotions() throws -> (stages: [StageKey: StageRecord], promotions: [PromotionRecord]) {
        try inner.stagesAndPromotions()
    }
    func stepRuns(promotion id: Int64) throws -> [StepRunRecord] { try inner.stepRuns(promotion: id) }
    func validSpecs() throws -> [String: ValidSpec] { try inner.validSpecs() }
    func sourceState() throws -> SourceState? { try inner.sourceState() }
    func marker(_ name: String) throws -> String? { try inner.marker(name) }
    func lastPlan() throws -> Plan? { try inner.lastPlan() }
    func auditAnchor() throws -> AuditAnchor? { try inner.auditAnchor() }
    func setAuditAnchor(_ anchor: AuditAnchor) throws { try inner.setAuditAnchor(anchor) }

    func savePhase(_ phase: String, blockedReason: String?, for key: StageKey) throws {
        note("phase")
        try inner.savePhase(phase, blockedReason: blockedReason, for: key)
    }
    func saveHealth(_ health: Health, for key: StageKey) throws {
        note("health")
        try inner.saveHealth(health, for: key)
    }
    func startPromotion(
        _ key: StageKey, candidate: String, previous: String?, specDigest: String, at: Date
    ) throws -> PromotionRecord {
        note("startPromotion")
        return try inner.startPromotion(key, candidate: candidate, previous: previous, specDigest: specDigest, at: at)
    }
    func finishPromotion(_ outcome: PromotionOutcome) throws {
        note("finishPromotion")
        try inner.finishPromotion(outcome)
    }
    func recordStepRun(_ run: StepRunRecord) throws {
        note("stepRun")
        try inner.recordStepRun(run)
    }
    func saveValidSpec(_ spec: ValidSpec) throws {
        note("validSpec")
        try inner.saveValidSpec(spec)
    }
    func saveSourceState(_ state: SourceState) throws {
        note("sourceState")
        try inner.saveSourceState(state)
    }
    func markAudited(_ key: String) throws -> Bool {
        note("once")
        return try inner.markAudited(key)
    }
    func setMarker(_ name: String, _ value: String) throws {
        note("marker:\(name)")
        try inner.setMarker(name, value)
    }
    func savePlanPipelines(_ changed: [String: String], removed: [String]) throws {
        note("planPipelines")
        try inner.savePlanPipelines(changed, removed: removed)
    }
    func apply(_ changes: [StateChange]) throws {
        for change in changes { note(Self.name(of: change)) }
        try inner.apply(changes)
    }
    func commit(_ changes: [StateChange], anchor: AuditAnchor) throws {
        for change in changes { note(Self.name(of: change)) }
        try inner.commit(changes, anchor: anchor)
    }

    static func name(of change: StateChange) -> String {
        switch change {
        case .stepRun: return "stepRun"
        case .outcome: return "finishPromotion"
        case .health: return "health"
        case .phase: return "phase"
        case .marker(let name, _): return "marker:\(name)"
        case .planPipelines: return "planPipelines"
        case .sourceState: return "sourceState"
        case .validSpec: return "validSpec"
        case .retry: return "retry"
        }
    }
}

@Suite("One writer: every state change follows the record that announces it")
struct RecorderTests {
    @Test("a promotion that fails verification and rolls back, then a health change: each write after its record")
    func writeAheadOrderOfAWholeStory() throws {
        var watcher: WriteWatchingStore?
        let agent = try InProcessAgent(
            stages: """
                    - name: dev
                      steps: [{name: deploy, run: deploy}]
                      verify: [{name: smoke, run: smoke}]
                      rollback: [{name: restore, run: restore}]
                      health: {interval: 5m, checks: [{name: lag, run: measure-lag, warnIf: ">10"}]}
                """,
            store: { sqlite, directory in
                let store = WriteWatchingStore(sqlite, auditPath: "\(directory)/\(AuditLog.fileName)")
                watcher = store
                return store
            })
        agent.runner.script = { request in (0, request.command == "measure-lag" ? "50\n" : "") }
        _ = try agent.loop.runOnce()
        try agent.git.commit("v2", files: ["app/version.txt": "v2\n"])
        try agent.git.git("push", "-q", agent.git.scratch.sub("team.git"), "main")
        agent.runner.script = { request in (request.command == "smoke" ? 1 : 0, "") }
        #expect(try agent.loop.runOnce().promotions.map(\.status) == [.rolledBack])
        agent.runner.script = { request in (0, request.command == "measure-lag" ? "50\n" : "") }
        _ = try agent.loop.checkHealth(now: agent.clock.now.addingTimeInterval(3600))

        let writes = try #require(watcher).writes
        let steps = writes.filter { $0.write == "stepRun" }
        #expect(steps.count == 5, "deploy, smoke (v1); deploy, smoke, restore (v2): \(writes.map(\.write))")
        // A finished step's record may share the next record's fsync, but the k-th step run is never
        // written before k step results are in the log.
        let results: Set<String> = ["step.finished", "verify.passed", "verify.failed"]
        for (index, write) in steps.enumerated() {
            #expect(write.types.filter(results.contains).count >= index + 1, "step run \(index + 1) before its record")
        }
        let outcomes = writes.filter { $0.write == "finishPromotion" }
        #expect(outcomes.count == 2)
        for write in outcomes {
            #expect(PromotionOutcome.terminalTypes.contains(write.lastRecord?.type ?? "-"), "the terminal record first")
        }
        let health = writes.filter { $0.write == "health" }
        #expect(!health.isEmpty && health.allSatisfy { $0.lastRecord?.type == "health.changed" })
        let starts = writes.filter { $0.write == "startPromotion" }
        #expect(starts.count == 2 && starts.allSatisfy { $0.lastRecord?.type != "promotion.started" })
    }

    @Test("writers on several threads never split a record from its state change")
    func concurrentWritersKeepPairsTogether() throws {
        let scratch = try Scratch()
        let directory = scratch.sub("state")
        let sqlite = try SQLiteStateStore(directory: directory)
        let watcher = WriteWatchingStore(sqlite, auditPath: "\(directory)/\(AuditLog.fileName)")
        try scratch.write("agent.yaml", "source: {url: ./x.git, branch: main}\nstate: {path: ./state}\n")
        let config = try AgentConfigLoader.load(path: scratch.sub("agent.yaml")).get()
        let recorder = try Recorder(
            config: config, store: watcher, redactor: .none, logger: Logger(label: "test"), clock: { Date() })
        let writers = DispatchGroup()
        for thread in 0..<8 {
            writers.enter()
            Thread.detachNewThread {
                defer { writers.leave() }
                for item in 0..<8 {
                    let index = thread * 8 + item
                    _ = try? recorder.record(
                        AuditEvent("test.fact", detail: ["n": .int(Int64(index))]), then: .marker("n\(index)", "\(index)"))
                }
            }
        }
        writers.wait()
        let markers = watcher.writes.filter { $0.write.hasPrefix("marker:") }
        #expect(markers.count == 64)
        for write in markers {
            guard case .int(let index)? = write.lastRecord?.detail["n"] else {
                Issue.record("\(write.write) follows \(write.lastRecord?.type ?? "nothing")")
                continue
            }
            #expect(write.write == "marker:n\(index)", "a record and its state change were split by another writer")
        }
        #expect(try AuditVerifier.verify(fileAt: recorder.auditPath, anchor: sqlite.auditAnchor()).isIntact)
    }
}

@Suite("Step log retention")
struct LogRetentionRuleTests {
    @Test("only finished promotions' directories older than the cutoff; a running one is kept whatever its age")
    func expiredSkipsRunning() throws {
        let scratch = try Scratch()
        for name in ["1", "2", "3", "notes"] { try scratch.write("logs/\(name)/step-a-1.log", "x\n") }
        for name in ["1", "2", "notes"] { try sh("touch", "-d", "100 days ago", scratch.sub("logs/\(name)")) }
        let cutoff = Date().addingTimeInterval(-30 * 86_400)
        #expect(LogRetention.expired(in: scratch.sub("logs"), before: cutoff, keeping: [2]) == [1])
        #expect(LogRetention.expired(in: scratch.sub("logs"), before: cutoff, keeping: []) == [1, 2])
    }
}
