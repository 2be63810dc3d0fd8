import Foundation
import SpecModel

/// A stage's sync phase, as `plan` and `status` show it.
public enum Phase: String, Sendable, Codable, CaseIterable {
    case inSync = "InSync"
    case outOfSync = "OutOfSync"
    case promoting = "Promoting"
    case waitingUpstream = "WaitingUpstream"
    case waitingApproval = "WaitingApproval"
    case waitingWindow = "WaitingWindow"
    case frozen = "Frozen"
    case failed = "Failed"
    case drifted = "Drifted"
    case invalid = "Invalid"
}

/// A commit that touched a pipeline's source paths.
public struct Candidate: Sendable, Hashable, Codable {
    public let id: String
    public let time: Date
    public let authorEmail: String
    public let summary: String

    public init(id: String, time: Date, authorEmail: String, summary: String) {
        self.id = id
        self.time = time
        self.authorEmail = authorEmail
        self.summary = summary
    }
}

/// Approvals as the plan reports them.
public struct ApprovalSummary: Sendable, Hashable, Codable {
    public var have: Int
    public var need: Int
    public var by: [String]
    /// Signed approvals that no longer count because the stage's spec changed after them.
    public var stale: [StaleApproval]

    public init(have: Int, need: Int, by: [String], stale: [StaleApproval] = []) {
        self.have = have
        self.need = need
        self.by = by
        self.stale = stale
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        have = try container.decode(Int.self, forKey: .have)
        need = try container.decode(Int.self, forKey: .need)
        by = try container.decode([String].self, forKey: .by)
        stale = try container.decodeIfPresent([StaleApproval].self, forKey: .stale) ?? []
    }

    public static let none = ApprovalSummary(have: 0, need: 0, by: [])
}

/// A signed approval the stage's spec has moved away from: it needs renewing.
public struct StaleApproval: Sendable, Hashable, Codable {
    public let approver: String
    public let file: String
    /// The commit that added the approval file; the spec at that commit is what was approved.
    public let commit: String
    /// The difference, field by field, in `-`/`+` lines.
    public let changes: [String]

    public init(approver: String, file: String, commit: String, changes: [String]) {
        self.approver = approver
        self.file = file
        self.commit = commit
        self.changes = changes
    }
}

/// What the plan says about one stage.
public struct StagePlan: Sendable, Hashable, Codable {
    public var name: String
    public var current: String?
    public var desired: String?
    public var phase: Phase
    public var health: Health
    public var reason: String
    public var approvals: ApprovalSummary
    /// What the agent config's `protect` floor made stricter than the spec.
    public var floor: [Tightening] = []
    /// When something time-based (soak, window) may change this stage's phase.
    public var wakeAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, current, desired, phase, health, reason, approvals, floor
    }

    public init(
        name: String, current: String?, desired: String?, phase: Phase, health: Health, reason: String,
        approvals: ApprovalSummary
    ) {
        self.name = name
        self.current = current
        self.desired = desired
        self.phase = phase
        self.health = health
        self.reason = reason
        self.approvals = approvals
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        current = try container.decodeIfPresent(String.self, forKey: .current)
        desired = try container.decodeIfPresent(String.self, forKey: .desired)
        phase = try container.decode(Phase.self, forKey: .phase)
        health = try container.decode(Health.self, forKey: .health)
        reason = try container.decode(String.self, forKey: .reason)
        approvals = try container.decode(ApprovalSummary.self, forKey: .approvals)
        floor = try container.decodeIfPresent([Tightening].self, forKey: .floor) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(current, forKey: .current)
        try container.encode(desired, forKey: .desired)
        try container.encode(phase, forKey: .phase)
        try container.encode(health, forKey: .health)
        try container.encode(reason, forKey: .reason)
        try container.encode(approvals, forKey: .approvals)
        try container.encode(floor, forKey: .floor)
    }
}

/// One pipeline's stages in topological order.
public struct PipelinePlan: Sendable, Hashable, Codable {
    public var name: String
    public var stages: [StagePlan]
    /// Set only for a pipeline that never had a valid spec (`Invalid`): its stages are unknown.
    public var phase: Phase?
    /// Why, for such a pipeline: the first error.
    public var reason: String?

    public init(name: String, stages: [StagePlan], phase: Phase? = nil, reason: String? = nil) {
        self.name = name
        self.stages = stages
        self.phase = phase
        self.reason = reason
    }
}

/// A promotion the executor should start.
public struct PromotionAction: Sendable, Hashable {
    public let key: StageKey
    public let candidate: String
    public let previous: String?
    public let pipeline: Pipeline
    public let stage: Stage
    /// Whether the planner let it start on approvals (the rule, pins and the floor included, decided once
    /// here): the loop then re-checks them right before the promotion starts.
    public var reliesOnApprovals = false
    /// The newest promotion of the stage the plan saw (nil: none). Agents sharing a database claim a promotion
    /// only while it is still the newest: another agent that promoted the stage since made this plan stale.
    public var basis: Int64?

    public init(
        key: StageKey, candidate: String, previous: String?, pipeline: Pipeline, stage: Stage, reliesOnApprovals: Bool = false
    ) {
        self.key = key
        self.candidate = candidate
        self.previous = previous
        self.pipeline = pipeline
        self.stage = stage
        self.reliesOnApprovals = reliesOnApprovals
    }
}

/// The planner's output: every stage's phase and the promotions to start.
public struct Plan: Sendable, Hashable, Codable {
    public var pipelines: [PipelinePlan]
    public var actions: [PromotionAction] = []
    /// The watched source's last fetch and error (in `status`).
    public var source: SourceState?
    /// The agents sharing a PostgreSQL store, with their heartbeats and what each runs (in `status`).
    public var agents: [AgentMember]?

    enum CodingKeys: String, CodingKey {
        case pipelines, source, agents
    }

    public init(pipelines: [PipelinePlan], actions: [PromotionAction] = []) {
        self.pipelines = pipelines
        self.actions = actions
    }

    /// The plan as the stable JSON document of DESIGN.md §5.
    public func json(pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        // Times as RFC 3339 (`source.lastFetch` was seconds since 2001, Foundation's reference date).
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The stages whose phase, candidates, health or approvals differ from `previous` (all of them
    /// when there is none), and the stages `previous` had that this plan has not. The wording of reasons
    /// is left out: it counts down while a stage soaks or waits for a window.
    public func changes(since previous: Plan?) -> (changed: [(pipeline: String, stage: StagePlan)], removed: [String]) {
        let (differing, removedPipelines) = differingPipelines(since: previous)
        let names = Set(differing.map(\.name)).union(removedPipelines)
        var before: [String: PipelinePlan] = [:]
        for pipeline in previous?.pipelines ?? [] where names.contains(pipeline.name) { before[pipeline.name] = pipeline }
        var changed: [(pipeline: String, stage: StagePlan)] = []
        var removed = removedPipelines.flatMap { name in (before[name]?.stages ?? []).map { "\(name)/\($0.name)" } }
        for pipeline in differing {
            var old = Dictionary((before[pipeline.name]?.stages ?? []).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
            for stage in pipeline.stages {
                if let kept = old.removeValue(forKey: stage.name), Self.sameFacts(kept, stage) { continue }
                changed.append((pipeline.name, stage))
            }
            removed += old.keys.map { "\(pipeline.name)/\($0)" }
        }
        return (changed, removed.sorted())
    }

    /// The pipelines that differ from `previous` in any way (new ones included), and the names of those
    /// gone. A pipeline reused from the last plan shares its storage, so most comparisons cost nothing.
    public func differingPipelines(since previous: Plan?) -> (differing: [PipelinePlan], removed: [String]) {
        let old = (previous?.pipelines ?? []).sorted { $0.name < $1.name }
        let new = pipelines.sorted { $0.name < $1.name }
        var differing: [PipelinePlan] = []
        var removed: [String] = []
        var (i, j) = (0, 0)
        while i < old.count || j < new.count {
            if j == new.count || (i < old.count && old[i].name < new[j].name) {
                removed.append(old[i].name)
                i += 1
            } else if i == old.count || new[j].name < old[i].name {
                differing.append(new[j])
                j += 1
            } else {
                if old[i] != new[j] { differing.append(new[j]) }
                (i, j) = (i + 1, j + 1)
            }
        }
        return (differing, removed)
    }

    private static func sameFacts(_ old: StagePlan, _ new: StagePlan) -> Bool {
        old.current == new.current && old.desired == new.desired && old.phase == new.phase && old.health == new.health
            && old.approvals.have == new.approvals.have && old.approvals.need == new.approvals.need
            && old.approvals.by == new.approvals.by
    }

    /// The earliest time a waiting stage may change by itself.
    public var nextWake: Date? {
        var earliest: Date?
        for pipeline in pipelines {
            for index in pipeline.stages.indices {
                guard let wake = pipeline.stages[index].wakeAt else { continue }
                earliest = min(earliest ?? wake, wake)
            }
        }
        return earliest
    }
}
