/// The shape of a spec document, described once and used twice: by the structural validator
/// (with source locations) and by the JSON Schema emitter (for editors).
public indirect enum SchemaType: Sendable {
    case object(ObjectSchema)
    case array(of: SchemaType, minItems: Int)
    case map(of: SchemaType, keyPattern: TextPattern?)
    case string(StringRule)
    case integer(minimum: Int)
    case boolean
    /// A string, number or boolean; steps see every value as a string.
    case scalar
}

/// A regular expression with the wording used when a value does not match it.
public struct TextPattern: Sendable {
    public let regex: String
    public let expectation: String

    public init(_ regex: String, expectation: String) {
        self.regex = regex
        self.expectation = expectation
    }
}

/// What a string value must look like.
public enum StringRule: Sendable {
    case nonEmpty
    case pattern(TextPattern)
    case oneOf([String])
}

/// An object with a fixed set of keys; any other key is an error.
public struct ObjectSchema: Sendable {
    public let title: String
    public let properties: [Property]

    public init(_ title: String, _ properties: [Property]) {
        self.title = title
        self.properties = properties
    }

    /// The property with this key, if the object has one.
    public func property(named name: String) -> Property? {
        properties.first { $0.name == name }
    }
}

/// One key of an object schema.
public struct Property: Sendable {
    public let name: String
    public let type: SchemaType
    public let required: Bool
    public let summary: String

    public init(_ name: String, _ type: SchemaType, required: Bool = false, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}

extension SchemaType {
    /// The noun used in messages such as "expected a list of steps".
    var noun: String {
        switch self {
        case .object(let object): return "a mapping (\(object.title))"
        case .array: return "a list"
        case .map: return "a mapping"
        case .string(.oneOf(let values)): return "one of " + values.joined(separator: ", ")
        case .string(.pattern(let pattern)): return pattern.expectation
        case .string(.nonEmpty): return "a string"
        case .integer(let minimum): return "an integer ≥ \(minimum)"
        case .boolean: return "true or false"
        case .scalar: return "a string, number or boolean"
        }
    }
}
