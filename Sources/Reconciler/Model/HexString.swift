import Foundation

extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hexadecimal (digests, HMACs).
    public var hexString: String { AuditVerifier.hex(Array(self)) }
}
