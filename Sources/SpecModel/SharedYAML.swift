import Yams

/// Yams reads the whole process environment each time a `Parser` or `YAMLDecoder` is made with its
/// default encoding (`YAMS_DEFAULT_ENCODING`); spec decoding makes thousands, so that read was 12 % of an
/// idle `run --once` at 100 pipelines. These pass UTF-8 explicitly and share one decoder.
enum SharedYAML {
    /// Never mutated after creation; `decode` only reads its options, so sharing it across threads is safe.
    nonisolated(unsafe) static let decoder = YAMLDecoder(encoding: .utf8)

    static func parser(_ text: String) throws -> Parser {
        try Parser(yaml: text, encoding: .utf8)
    }
}
