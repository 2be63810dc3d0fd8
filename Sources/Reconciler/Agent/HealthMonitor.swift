import Foundation
import SpecModel

/// Runs each deployed stage's `health.checks` every `health.interval` against the candidate it runs;
/// the worst check is the stage's health. Changes are stored, audited and announced.
final class HealthMonitor {
    private let context: ExecutionContext
    private var lastRun: [StageKey: Date] = [:]

    init(context: ExecutionContext) {
        self.context = context
    }

    /// Runs the checks that are due; returns when the next ones are.
    func runDue(_ inputs: [PipelineInput], now: Date) throws -> Date? {
        var stages = try context.store.stages()
        let promotions = try context.store.promotions()
        var next: Date?
        for pipeline in inputs.compactMap(\.pipeline) {
            for stage in pipeline.spec.stages {
                let key = StageKey(pipeline.name, stage.name)
                guard let health = stage.health, var record = stages[key], let current = record.current else { continue }
                let due = lastRun[key].map { $0.addingTimeInterval(health.interval.timeInterval) } ?? now
                if due <= now {
                    lastRun[key] = now
                    let checkout = promotions.checkout(deploying: current, in: key, stateDirectory: context.stateDirectory)
                    let action = PromotionAction(
                        key: key, candidate: current, previous: current, pipeline: pipeline, stage: stage)
                    let results = health.checks.map { check in
                        Verification.run(
                            check, checkout: checkout,
                            environment: context.environment.variables(for: action, promotionID: 0, checkout: checkout),
                            notBefore: .distantPast, logDirectory: "\(context.stateDirectory)/logs", runner: context.runner)
                    }
                    try update(&record, results: results, action: action)
                    stages[key] = record
                }
                let upcoming = (lastRun[key] ?? now).addingTimeInterval(health.interval.timeInterval)
                next = [next, upcoming].compactMap { $0 }.min()
            }
        }
        return next
    }

    private func update(_ record: inout StageRecord, results: [CheckResult], action: PromotionAction) throws {
        let health = results.map(\.health).max() ?? .unknown
        guard health != record.health else { return }
        let previous = record.health
        record.health = health
        let checks = JSONValue.object(
            Dictionary(
                results.map { ($0.name, JSONValue.string("\($0.level.rawValue): \($0.message)")) }, uniquingKeysWith: { $1 }))
        try context.audit.append(
            AuditEvent(
                "health.changed", pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                detail: ["from": .string(previous.rawValue), "to": .string(health.rawValue), "checks": checks]))
        // The record first, as for every outcome; then only the health column, so a stale read of the
        // stage can never overwrite its candidates.
        try context.store.saveHealth(health, for: action.key)
        guard let notifier = context.notifier, let channels = action.stage.notify, !channels.isEmpty else { return }
        let worst = results.filter { $0.health == health }.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
        let severity: NotificationEvent.Severity = health == .critical ? .critical : health == .warning ? .warning : .info
        notifier.send(
            NotificationEvent(
                .healthChanged, pipeline: action.pipeline.name, stage: action.stage.name, candidate: action.candidate,
                summary: "\(action.key) health \(previous.rawValue) → \(health.rawValue)\(worst.isEmpty ? "" : " (\(worst))")",
                severity: severity, resolves: health == .healthy), to: channels)
    }
}
