import Foundation
import SpecModel

/// The pure core: (specs, actual state, history, approvals, clock) → `Plan`.
public enum Planner {
    public static func plan(_ input: PlanInput) -> Plan {
        plan(input, memo: PlanMemo()).plan
    }

    /// The same plan, reusing from `memo` every pipeline whose facts are unchanged since it was made;
    /// returns the memo for the next plan.
    public static func plan(_ input: PlanInput, memo previous: PlanMemo) -> (plan: Plan, memo: PlanMemo) {
        let stamps = PromotionStamps(input.promotions).stamps
        let reusable = previous.floor == input.floor ? previous.entries : [:]
        let pipelines = input.pipelines.sorted { $0.name < $1.name }
        // First what can be reused, so that only the others' promotions are gathered.
        let (kept, facts) = sortOut(pipelines, input: input, stamps: stamps, reusable: reusable)
        let toPlan = Set(pipelines.compactMap { $0.pipeline?.name }).subtracting(kept.keys)
        let promotions = PromotionStamps.groups(of: toPlan, in: input.promotions)
        var memo = PlanMemo()
        memo.floor = input.floor
        memo.reusedPipelines = Set(kept.keys)
        memo.entries.reserveCapacity(pipelines.count)
        var plan = Plan(pipelines: [])
        for pipelineInput in pipelines {
            guard let pipeline = pipelineInput.pipeline else {
                plan.pipelines.append(neverValid(pipelineInput))
                continue
            }
            if let entry = kept[pipeline.name] {
                memo.entries[pipeline.name] = entry
                plan.pipelines.append(entry.plan)
                plan.actions += entry.actions
                continue
            }
            let history = PromotionHistory(promotions[pipeline.name] ?? [], retries: input.retries)
            let (stages, actions) = planStages(of: pipeline, pipelineInput, input: input, history: history)
            let pipelinePlan = PipelinePlan(name: pipeline.name, stages: stages)
            if let current = facts[pipeline.name] {
                let entry = PlanMemo.Entry(facts: current, plan: pipelinePlan, actions: actions)
                if !entry.dependsOnClock { memo.entries[pipeline.name] = entry }
            }
            plan.pipelines.append(pipelinePlan)
            plan.actions += actions
        }
        return (plan, memo)
    }

    /// The memo entries still valid for `pipelines`, and the facts of the others (those that can be memoized).
    private static func sortOut(
        _ pipelines: [PipelineInput], input: PlanInput, stamps: [String: PromotionStamp], reusable: [String: PlanMemo.Entry]
    ) -> (kept: [String: PlanMemo.Entry], facts: [String: PipelineFacts]) {
        var kept: [String: PlanMemo.Entry] = [:]
        var facts: [String: PipelineFacts] = [:]
        kept.reserveCapacity(reusable.count)
        for pipelineInput in pipelines {
            guard let pipeline = pipelineInput.pipeline,
                let approvals = input.approvals.facts(pipeline: pipeline.name)
            else { continue }
            let stamp = stamps[pipeline.name] ?? PromotionStamp()
            if let entry = reusable[pipeline.name],
                entry.facts.hold(for: pipelineInput, pipeline, in: input, promotions: stamp, approvals: approvals)
            {
                kept[pipeline.name] = entry
                continue
            }
            facts[pipeline.name] = PipelineFacts(
                input: pipelineInput,
                records: pipeline.spec.stages.map { input.stages[StageKey(pipeline.name, $0.name)] },
                promotions: stamp,
                observed: pipeline.spec.stages.map { input.observed[StageKey(pipeline.name, $0.name)] },
                approvals: approvals,
                retries: pipeline.spec.stages.map { input.retries[StageKey(pipeline.name, $0.name)] })
        }
        return (kept, facts)
    }

    private static func neverValid(_ pipelineInput: PipelineInput) -> PipelinePlan {
        let error = pipelineInput.diagnostics.first
        return PipelinePlan(
            name: pipelineInput.name, stages: [], phase: error.map { _ in .invalid },
            reason: error.map { "spec invalid, never valid yet: \($0.description)" })
    }

    private static func planStages(
        of pipeline: Pipeline, _ pipelineInput: PipelineInput, input: PlanInput, history: PromotionHistory
    ) -> ([StagePlan], [PromotionAction]) {
        var stages: [StagePlan] = []
        var actions: [PromotionAction] = []
        for spec in topologicalOrder(pipeline.spec.stages) {
            let floored = input.floor.apply(pipeline: pipeline.name, to: spec)
            let context = StageContext(
                pipeline: pipeline, stage: floored.stage, input: input, pipelineInput: pipelineInput, history: history)
            var (stagePlan, action) = context.decide()
            stagePlan.floor = floored.tightenings
            stages.append(stagePlan)
            if let action { actions.append(action) }
        }
        return (stages, actions)
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
    /// The newest promotion id of each stage (the basis of a claim, `PromotionAction.basis`).
    var latest: [StageKey: Int64] = [:]
    var lastFailureReason: [StageKey: String] = [:]

    /// An interrupted promotion (the agent stopped or died) is retried once; a second interruption of
    /// the same candidate and spec counts as a failure, so a step that kills the agent cannot loop.
    /// `retries`: a failure (or interruption) of a candidate that ended before an operator's retry of it on
    /// that stage no longer counts.
    init(_ promotions: [PromotionRecord], retries: [StageKey: [String: Date]] = [:]) {
        var interruptions: [String: Int] = [:]
        for promotion in promotions {
            latest[promotion.key] = max(latest[promotion.key] ?? 0, promotion.id)
            if let retried = retries[promotion.key]?[promotion.candidate],
                (promotion.endedAt ?? promotion.startedAt) <= retried, promotion.status != .succeeded,
                promotion.status != .running
            {
                continue
            }
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
