import Foundation
import Yams

/// Converts YAML documents into JSON values the way the agent types them, so external tools
/// (JSON Schema validators, jq) see exactly what the agent sees.
public enum YAMLJSON {
    /// Every document of a YAML text as a JSON-compatible value (dictionaries, arrays, strings,
    /// numbers, booleans, NSNull). Throws when the YAML does not parse.
    public static func documents(from text: String) throws -> [Any] {
        let parser = try SharedYAML.parser(text)
        var documents: [Any] = []
        while let root = try parser.nextRoot() {
            documents.append(value(of: root))
        }
        return documents
    }

    static func value(of node: Node) -> Any {
        switch node {
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, item) in mapping {
                object[key.scalar?.string ?? "\(key)"] = value(of: item)
            }
            return object
        case .sequence(let sequence):
            return sequence.map { value(of: $0) }
        case .alias:
            return NSNull()
        case .scalar(let scalar):
            switch ScalarKind(of: node) {
            case .int: return node.int ?? scalar.string
            case .float: return node.float ?? scalar.string
            case .bool: return node.bool ?? scalar.string
            case .null: return NSNull()
            case .string, .timestamp, .collection: return scalar.string
            }
        }
    }
}
