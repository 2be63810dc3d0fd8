import Foundation
import SpecModel

/// The pure core: (specs, actual state, history, approvals, clock) → `Plan`.
public enum Planner {
    public static func plan(_ input: PlanInput) -> Plan {
        let history = PromotionHistory(input.promotions)
        var plan = Plan(pipelines: [])
        for pipelineInput in input.pipelines.sorted(by: { $0.name < $1.name }) {
            var stages: [StagePlan] = []
            guard let pipeline = pipelineInput.pipeline else {
                let error = pipelineInput.diagnostics.first
                plan.pipelines.append(
                    PipelinePlan(
                        name: pipelineInput.name, stages: [], phase: error.map { _ in .invalid },
                        reason: error.map { "spec invalid, never valid yet: \($0.description)" }))
                continue
            }
            for spec in topologicalOrder(pipeline.spec.stages) {
                let floored = input.floor.apply(pipeline: pipeline.name, to: spec)
                let context = StageContext(
                    pipeline: pipeline, stage: floored.stage, input: input, pipelineInput: pipelineInput, history: history)
                var (stagePlan, action) = context.decide()
                stagePlan.floor = floored.tightenings
                stages.append(stagePlan)
                if let action { plan.actions.append(action) }
            }
            plan.pipelines.append(PipelinePlan(name: pipeline.name, stages: stages))
        }
        return plan
    }

    /// Stages with every upstream before its downstreams; spec order breaks ties.
    static func topologicalOrder(_ stages: [Stage]) -> [Stage] {
        var placed = Set<String>()
        var ordered: [Stage] = []
        var remaining = stages
        while !remaining.isEmpty {
            let ready = remaining.filter { $0.from.map(placed.contains) ?? true }
            guard !ready.isEmpty else { return ordered + remaining }
            for stage in ready { placed.insert(stage.name) }
            ordered += ready
            remaining.removeAll { placed.contains($0.name) }
        }
        return ordered
    }
}

/// Promotion facts by stage, derived once per plan.
struct PromotionHistory {
    /// When each candidate was verified in each stage (its successful promotion's end).
    var verified: [StageKey: [String: Date]] = [:]
    /// Failed candidates per stage, with the spec digest they failed under.
    var failed: [StageKey: [String: Set<String>]] = [:]
    var running: [StageKey: PromotionRecord] = [:]
    var lastFailureReason: [StageKey: String] = [:]

    /// An interrupted promotion (the agent stopped or died) is retried once; a second interruption of
    /// the same candidate and spec counts as a failure, so a step that kills the agent cannot loop.
    init(_ promotions: [PromotionRecord]) {
        var interruptions: [String: Int] = [:]
        for promotion in promotions {
            switch promotion.status {
            case .succeeded:
                verified[promotion.key, default: [:]][promotion.candidate] = promotion.endedAt ?? promotion.startedAt
            case .running:
                running[promotion.key] = promotion
            case .hostFailed:
                continue
            case .interrupted:
                let id = "\(promotion.key)|\(promotion.candidate)|\(promotion.specDigest)"
                interruptions[id, default: 0] += 1
                guard interruptions[id, default: 0] >= 2 else { continue }
                failed[promotion.key, default: [:]][promotion.candidate, default: []].insert(promotion.specDigest)
                lastFailureReason[promotion.key] = "interrupted twice: \(promotion.reason ?? "")"
            case .failed, .rolledBack:
                failed[promotion.key, default: [:]][promotion.candidate, default: []].insert(promotion.specDigest)
                lastFailureReason[promotion.key] = promotion.reason
            }
        }
    }
}
