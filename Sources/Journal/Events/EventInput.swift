/// Reads producer input: a JSON array of event objects, or NDJSON (one event object per line).
public enum EventInput {
    /// Parses `bytes` as a JSON array or as NDJSON, deciding by the first non-blank character.
    ///
    /// - Throws: ``JournalError/malformedInput(line:message:)`` with the line of NDJSON that is broken,
    ///   or ``JournalError/invalidEvent(_:)`` for an event object with a wrong field.
    public static func parse(_ bytes: [UInt8]) throws(JournalError) -> [ProposedEvent] {
        guard let first = bytes.firstIndex(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw .malformedInput(line: nil, message: "the input is empty; give a JSON array of events or NDJSON")
        }
        var values: [JSONValue] = []
        if bytes[first] == UInt8(ascii: "[") {
            let document: JSONValue
            do {
                document = try JSONParser.parse(bytes)
            } catch {
                throw .malformedInput(line: line(of: error.offset, in: bytes), message: error.description)
            }
            guard case .array(let elements) = document else {
                throw .malformedInput(line: nil, message: "expected a JSON array of events")
            }
            values = elements
        } else {
            var lineNumber = 0
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                do {
                    values.append(try JSONParser.parse(line))
                } catch {
                    throw .malformedInput(line: lineNumber, message: error.description)
                }
            }
        }
        if values.isEmpty { throw .malformedInput(line: nil, message: "the input holds no events") }
        var events: [ProposedEvent] = []
        events.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            events.append(try ProposedEvent(json: value, index: index))
        }
        return events
    }

    private static func line(of offset: Int, in bytes: [UInt8]) -> Int {
        1 + bytes.prefix(offset).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
