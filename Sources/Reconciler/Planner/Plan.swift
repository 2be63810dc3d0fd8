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

    public init(have: Int, need: Int, by: [String]) {
        self.have = have
        self.need = need
        self.by = by
    }

    public static let none = ApprovalSummary(have: 0, need: 0, by: [])
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
    /// When something time-based (soak, window) may change this stage's phase.
    public var wakeAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, current, desired, phase, health, reason, approvals
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
    }
}

/// One pipeline's stages in topological order.
public struct PipelinePlan: Sendable, Hashable, Codable {
    public var name: String
    public var stages: [StagePlan]
}

/// A promotion the executor should start.
public struct PromotionAction: Sendable, Hashable {
    public let key: StageKey
    public let candidate: String
    public let previous: String?
    public let pipeline: Pipeline
    public let stage: Stage
}

/// The planner's output: every stage's phase and the promotions to start.
public struct Plan: Sendable, Hashable, Codable {
    public var pipelines: [PipelinePlan]
    public var actions: [PromotionAction] = []
    /// The watched source's last fetch and error (in `status`).
    public var source: SourceState?

    enum CodingKeys: String, CodingKey {
        case pipelines, source
    }

    public init(pipelines: [PipelinePlan], actions: [PromotionAction] = []) {
        self.pipelines = pipelines
        self.actions = actions
    }

    /// The plan as the stable JSON document of DESIGN.md §5.
    public func json(pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// What makes two plans different for the audit log: phases, candidates and approvals,
    /// not the wording of reasons (which counts down while a stage soaks or waits for a window).
    public var fingerprint: String {
        pipelines.map { pipeline in
            pipeline.stages.map { stage in
                [
                    pipeline.name, stage.name, stage.current ?? "-", stage.desired ?? "-", stage.phase.rawValue,
                    stage.health.rawValue, "\(stage.approvals.have)/\(stage.approvals.need)",
                    stage.approvals.by.joined(separator: ","),
                ]
                .joined(separator: " ")
            }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Decodes a plan saved with `json()`.
    public static func decode(_ json: String) -> Plan? {
        try? JSONDecoder().decode(Plan.self, from: Data(json.utf8))
    }

    /// The earliest time a waiting stage may change by itself.
    public var nextWake: Date? {
        pipelines.flatMap(\.stages).compactMap(\.wakeAt).min()
    }
}
