import Yams

/// The type YAML's resolver gives a node, as our messages talk about it.
enum ScalarKind: Hashable {
    case string, int, float, bool, null, timestamp, collection

    init(of node: Node) {
        guard case .scalar = node else {
            self = .collection
            return
        }
        switch node.tag.rawValue {
        case "tag:yaml.org,2002:int": self = .int
        case "tag:yaml.org,2002:float": self = .float
        case "tag:yaml.org,2002:bool": self = .bool
        case "tag:yaml.org,2002:null": self = .null
        case "tag:yaml.org,2002:timestamp": self = .timestamp
        default: self = .string
        }
    }

    /// "a list", "the number 960", "nothing (null)" — what the user actually wrote.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch ScalarKind(of: node) {
            case .int, .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            case .null: return "nothing (null)"
            case .timestamp: return "the timestamp \(scalar.string)"
            case .string, .collection: return "the string '\(scalar.string)'"
            }
        }
    }
}
