import Foundation

/// Turns the spec schema into a JSON Schema (draft 2020-12) document for editors and CI.
public enum JSONSchemaEmitter {
    /// The schema of the Pipeline document, as pretty-printed JSON with sorted keys.
    public static func pipelineSchemaJSON() throws -> Data {
        try document(
            SpecSchema.pipeline, file: "pipeline.schema.json", title: "pipeline-agent Pipeline",
            description: "A deliverable's promotion path: a source and a graph of stages (kind: Pipeline).")
    }

    /// The schema of the agent config file (`--config`), from the description the config check uses.
    public static func configSchemaJSON() throws -> Data {
        try document(
            ConfigSchema.config, file: "agent-config.schema.json", title: "pipeline-agent agent config",
            description: "The agent's own configuration (--config): the trust root that no repository change can alter.")
    }

    private static func document(_ type: SchemaType, file: String, title: String, description: String) throws -> Data {
        var root = schema(for: type)
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        root["$id"] = "https://pipeline-agent.dev/schemas/\(file)"
        root["title"] = title
        root["description"] = description
        var data = try JSONSerialization.data(
            withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }

    static func schema(for type: SchemaType) -> [String: Any] {
        switch type {
        case .object(let object): return objectSchema(object)
        case .array(let element, let minItems):
            var result: [String: Any] = ["type": "array", "items": schema(for: element)]
            if minItems > 0 { result["minItems"] = minItems }
            return result
        case .map(let value, let keyPattern):
            var result: [String: Any] = ["type": "object", "additionalProperties": schema(for: value)]
            if let keyPattern { result["propertyNames"] = ["pattern": keyPattern.regex] }
            return result
        case .string(.nonEmpty): return ["type": "string", "minLength": 1]
        case .string(.pattern(let pattern)): return ["type": "string", "pattern": pattern.regex]
        case .string(.oneOf(let values)): return ["type": "string", "enum": values]
        case .integer(let minimum): return ["type": "integer", "minimum": minimum]
        case .boolean: return ["type": "boolean"]
        case .scalar: return ["type": ["string", "number", "boolean"]]
        }
    }

    private static func objectSchema(_ object: ObjectSchema) -> [String: Any] {
        var properties: [String: Any] = [:]
        for property in object.properties {
            var described = schema(for: property.type)
            described["description"] = property.summary
            properties[property.name] = described
        }
        var result: [String: Any] = ["type": "object", "additionalProperties": false, "properties": properties]
        let required = object.properties.filter(\.required).map(\.name)
        if !required.isEmpty { result["required"] = required }
        return result
    }
}
