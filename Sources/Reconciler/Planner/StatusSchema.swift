import Foundation

/// The JSON Schema of `status --output json`, `plan --output json` and `/api/v1/status` (one shape):
/// built from the same enums the planner uses, so a new phase or health shows up in it.
public enum StatusSchema {
    public static func json() throws -> Data {
        try JSONSerialization.data(withJSONObject: schema, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static var schema: [String: Any] {
        [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "pipeline-agent status and plan",
            "description":
                "Every pipeline with its stages in topological order, as `status`, `plan` and /api/v1/status print them.",
            "type": "object", "required": ["pipelines"], "additionalProperties": false,
            "properties": [
                "pipelines": ["type": "array", "items": pipeline],
                "source": source,
                "agents": ["type": "array", "items": agent],
            ],
        ]
    }

    static var agent: [String: Any] {
        [
            "type": "object", "additionalProperties": false,
            "required": [
                "instance", "host", "pid", "startedAt", "lastHeartbeat", "leaseUntil", "state", "coordinator", "running",
            ],
            "description": "An agent sharing the PostgreSQL store (status and the API only).",
            "properties": [
                "instance": ["type": "string", "description": "host:pid.generation; records it wrote carry it as `agent`."],
                "host": ["type": "string"], "pid": ["type": "integer"], "startedAt": time, "lastHeartbeat": time,
                "leaseUntil": time,
                "state": [
                    "enum": ["live", "lost", "stopped"], "description": "lost: its lease ran out; others took its promotions.",
                ],
                "coordinator": ["type": "boolean", "description": "Whether it does the once-only duties."],
                "running": ["type": "array", "items": ["type": "string"], "description": "pipeline/stage#promotion it runs."],
            ],
        ]
    }

    static var commit: [String: Any] { ["type": "string", "pattern": "^[0-9a-f]{40}$"] }
    static var time: [String: Any] { ["type": "string", "format": "date-time", "pattern": "Z$"] }
    static var strings: [String: Any] { ["type": "array", "items": ["type": "string"]] }

    static var pipeline: [String: Any] {
        [
            "type": "object", "required": ["name", "stages"], "additionalProperties": false,
            "properties": [
                "name": ["type": "string"],
                "stages": ["type": "array", "items": stage],
                "phase": ["enum": [Phase.invalid.rawValue], "description": "Only for a pipeline that never had a valid spec."],
                "reason": ["type": "string", "description": "Why, for such a pipeline: its first error."],
            ],
        ]
    }

    static var stage: [String: Any] {
        [
            "type": "object", "additionalProperties": false,
            "required": ["name", "phase", "health", "reason", "approvals", "floor"],
            "properties": [
                "name": ["type": "string"],
                "current": nullable(commit, "The candidate the stage runs (null: never promoted)."),
                "desired": nullable(commit, "The candidate the stage should run, or is promoting."),
                "phase": ["enum": Phase.allCases.map(\.rawValue)],
                "health": ["enum": Health.allCases.map(\.rawValue)],
                "reason": ["type": "string", "description": "What the stage waits for, in words."],
                "approvals": approvals,
                "floor": [
                    "type": "array", "items": tightening, "description": "Where the agent's floor made the spec stricter.",
                ],
            ],
        ]
    }

    static var approvals: [String: Any] {
        let stale: [String: Any] = [
            "type": "object", "additionalProperties": false, "required": ["approver", "file", "commit", "changes"],
            "properties": [
                "approver": ["type": "string"], "file": ["type": "string"], "commit": ["type": "string"], "changes": strings,
            ],
        ]
        return [
            "type": "object", "additionalProperties": false, "required": ["have", "need", "by", "stale"],
            "properties": [
                "have": ["type": "integer", "minimum": 0], "need": ["type": "integer", "minimum": 0], "by": strings,
                "stale": ["type": "array", "items": stale],
            ],
        ]
    }

    static var tightening: [String: Any] {
        [
            "type": "object", "additionalProperties": false, "required": ["rule", "field", "spec", "effective"],
            "properties": [
                "rule": ["type": "string", "pattern": "^protect\\[[0-9]+\\]$"], "field": ["type": "string"],
                "spec": ["type": "string"], "effective": ["type": "string"],
            ],
        ]
    }

    static var source: [String: Any] {
        [
            "type": "object", "additionalProperties": false, "required": ["url"],
            "description": "The watched repository as the last pass saw it (status and the API only).",
            "properties": [
                "url": ["type": "string"], "lastFetch": nullable(time, "When the last ref listing or fetch succeeded."),
                "lastError": nullable(["type": "string"], "The last fetch's error, until one succeeds again."),
            ],
        ]
    }

    static func nullable(_ schema: [String: Any], _ description: String) -> [String: Any] {
        ["anyOf": [schema, ["type": "null"]], "description": description]
    }
}
