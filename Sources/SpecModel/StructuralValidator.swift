import Foundation
import Yams

/// Checks a YAML node tree against a `SchemaType`, reporting every mismatch with its location
/// and remembering where each value sits so later checks can point at it too.
struct StructuralValidator {
    /// Aliases can make a small file expand into a huge tree; beyond this many nodes we stop.
    static let nodeBudget = 200_000

    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var locations: [String: SourceLocation] = [:]
    private var nodesSeen = 0
    private var budgetReported = false

    init(file: String) {
        self.file = file
    }

    mutating func check(_ node: Node, against type: SchemaType, path: String, fallback: SourceLocation) {
        nodesSeen += 1
        guard nodesSeen <= Self.nodeBudget else {
            if !budgetReported {
                budgetReported = true
                error(at: fallback, "document expands to more than \(Self.nodeBudget) nodes (aliases?); simplify it")
            }
            return
        }
        let here = node.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? fallback
        locations[path] = here
        switch type {
        case .object(let object): checkObject(node, object, path: path, at: here)
        case .array(let element, let minItems): checkArray(node, element, minItems: minItems, path: path, at: here)
        case .map(let value, let keyPattern): checkMap(node, value, keyPattern: keyPattern, path: path, at: here)
        case .string(let rule): checkString(node, rule, type: type, path: path, at: here)
        case .integer(let minimum): checkInteger(node, minimum: minimum, path: path, at: here)
        case .boolean: expectScalar(node, kinds: [.bool], type: type, path: path, at: here)
        case .scalar: expectScalar(node, kinds: [.string, .int, .float, .bool, .timestamp], type: type, path: path, at: here)
        }
    }

    private mutating func checkObject(_ node: Node, _ object: ObjectSchema, path: String, at here: SourceLocation) {
        guard case .mapping(let mapping) = node else {
            return mismatch(node, expected: .object(object), path: path, at: here)
        }
        var present = Set<String>()
        for (keyNode, value) in mapping {
            let keyAt = keyNode.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? here
            guard let key = stringKey(keyNode, path: path, at: keyAt) else { continue }
            present.insert(key)
            guard let property = object.property(named: key) else {
                unknownKey(key, in: object, path: path, at: keyAt)
                continue
            }
            check(value, against: property.type, path: join(path, key), fallback: keyAt)
        }
        for property in object.properties where property.required && !present.contains(property.name) {
            error(at: here, "\(describe(path, object.title)): missing required key '\(property.name)'")
        }
    }

    private mutating func checkArray(_ node: Node, _ element: SchemaType, minItems: Int, path: String, at here: SourceLocation) {
        guard case .sequence(let sequence) = node else {
            return mismatch(node, expected: .array(of: element, minItems: minItems), path: path, at: here)
        }
        if sequence.count < minItems {
            error(at: here, "\(path): needs at least \(minItems) item\(minItems == 1 ? "" : "s"), found \(sequence.count)")
        }
        for (index, item) in sequence.enumerated() {
            check(item, against: element, path: "\(path)[\(index)]", fallback: here)
        }
    }

    private mutating func checkMap(
        _ node: Node, _ value: SchemaType, keyPattern: TextPattern?, path: String, at here: SourceLocation
    ) {
        guard case .mapping(let mapping) = node else {
            return mismatch(node, expected: .map(of: value, keyPattern: keyPattern), path: path, at: here)
        }
        for (keyNode, item) in mapping {
            let keyAt = keyNode.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? here
            guard let key = stringKey(keyNode, path: path, at: keyAt) else { continue }
            if let keyPattern, !matches(key, keyPattern.regex) {
                error(at: keyAt, "\(path): key '\(key)' must be \(keyPattern.expectation)")
            }
            check(item, against: value, path: join(path, key), fallback: keyAt)
        }
    }

    private mutating func checkString(_ node: Node, _ rule: StringRule, type: SchemaType, path: String, at here: SourceLocation) {
        guard let text = expectScalar(node, kinds: [.string, .timestamp], type: type, path: path, at: here) else { return }
        switch rule {
        case .nonEmpty:
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                error(at: here, "\(path): must not be empty")
            }
        case .pattern(let pattern):
            if !matches(text, pattern.regex) {
                error(at: here, "\(path): '\(text)' is not \(pattern.expectation)")
            }
        case .oneOf(let values):
            if !values.contains(text) {
                error(at: here, "\(path): '\(text)' is not one of \(values.joined(separator: ", "))\(suggestion(text, values))")
            }
        }
    }

    private mutating func checkInteger(_ node: Node, minimum: Int, path: String, at here: SourceLocation) {
        guard let text = expectScalar(node, kinds: [.int], type: .integer(minimum: minimum), path: path, at: here) else { return }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value >= minimum else {
            return error(at: here, "\(path): \(text) is not an integer ≥ \(minimum)")
        }
    }

    /// Returns the scalar's text when its resolved kind is acceptable, else reports a mismatch.
    @discardableResult
    private mutating func expectScalar(
        _ node: Node, kinds: Set<ScalarKind>, type: SchemaType, path: String, at here: SourceLocation
    ) -> String? {
        guard case .scalar(let scalar) = node, kinds.contains(ScalarKind(of: node)) else {
            mismatch(node, expected: type, path: path, at: here)
            return nil
        }
        return scalar.string
    }

    /// `H:MM` written as the `HH:MM` the schema accepts, or nil when it is not a time of day.
    static func clockTime(_ text: String) -> String? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let hour = Int(parts[0]), (0...24).contains(hour), parts[1].count == 2,
            let minute = Int(parts[1]), (0...59).contains(minute)
        else { return nil }
        return (hour < 10 ? "0" : "") + "\(hour):" + parts[1]
    }

    private mutating func mismatch(_ node: Node, expected type: SchemaType, path: String, at here: SourceLocation) {
        var message = "\(path): expected \(type.noun), found \(ScalarKind.describe(node))"
        if case .string(.pattern(let pattern)) = type, pattern.expectation.contains("duration"), ScalarKind(of: node) == .int,
            case .scalar(let scalar) = node
        {
            message += "; add a unit, e.g. \(scalar.string)s"
        } else if case .string = type, case .scalar(let scalar) = node, ScalarKind(of: node) != .null {
            // The suggestion must pass the check that follows: a time of day has two-digit hours ("9:00" → "09:00").
            let suggested = Self.clockTime(scalar.string) ?? scalar.string
            message +=
                scalar.string.contains(":")
                ? "; YAML reads an unquoted \(scalar.string) as a base-60 number, so quote it: \"\(suggested)\""
                : "; quote it if it is meant as text"
        }
        error(at: here, message)
    }

    private mutating func stringKey(_ keyNode: Node, path: String, at here: SourceLocation) -> String? {
        guard case .scalar(let scalar) = keyNode else {
            error(at: here, "\(describe(path, "mapping")): keys must be plain strings")
            return nil
        }
        return scalar.string
    }

    private mutating func unknownKey(_ key: String, in object: ObjectSchema, path: String, at here: SourceLocation) {
        let known = object.properties.map(\.name)
        error(at: here, "\(describe(path, object.title)): unknown key '\(key)'\(suggestion(key, known))")
    }

    private mutating func error(at location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, file: file, at: location, message))
    }

    private func describe(_ path: String, _ title: String) -> String {
        path.isEmpty ? title : path
    }

    private func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}

/// Compares against a whole-string regular expression; a pattern that fails to compile matches nothing.
func matches(_ text: String, _ regex: String) -> Bool {
    guard let expression = try? NSRegularExpression(pattern: regex) else { return false }
    let range = NSRange(text.startIndex..<text.endIndex, in: text)
    return expression.firstMatch(in: text, range: range) != nil
}

/// ", did you mean 'x'?" when one of the candidates is close to the misspelt word.
func suggestion(_ word: String, _ candidates: [String]) -> String {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return "" }
    return "; did you mean '\(best.0)'?"
}

/// Levenshtein distance, small strings only (keys and enum values).
func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs)
    let b = Array(rhs)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        previous = current
    }
    return previous[b.count]
}
