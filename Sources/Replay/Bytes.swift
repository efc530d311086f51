/// Little-endian integers and length-prefixed strings into a byte array (recording headers and chunk framing).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append<Value: FixedWidthInteger>(_ value: Value) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ text: String) {
        let utf8 = Array(text.utf8.prefix(Int(UInt16.max)))
        append(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func append(bytes more: [UInt8]) {
        append(UInt32(more.count))
        bytes.append(contentsOf: more)
    }
}

/// Reads what `ByteWriter` wrote; every read is bounds-checked and fails with `nil`, never traps.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    mutating func read<Value: FixedWidthInteger>(_: Value.Type = Value.self) -> Value? {
        let size = MemoryLayout<Value>.size
        guard remaining >= size else { return nil }
        var value = Value.zero
        for offset in 0..<size { value |= Value(truncatingIfNeeded: bytes[position + offset]) << (offset * 8) }
        position += size
        return value
    }

    mutating func readString(maxBytes: Int) -> String? {
        guard let count = read(UInt16.self), Int(count) <= maxBytes, remaining >= Int(count) else { return nil }
        let slice = bytes[position..<position + Int(count)]
        position += Int(count)
        return String(validating: slice, as: UTF8.self)
    }

    mutating func readBytes(maxCount: Int) -> [UInt8]? {
        guard let count = read(UInt32.self), Int(count) <= maxCount, remaining >= Int(count) else { return nil }
        let slice = bytes[position..<position + Int(count)]
        position += Int(count)
        return Array(slice)
    }
}
