import Crypto
import Foundation
import Journal

/// One record of a source file: its fields (CSV) or object (NDJSON), and the line it starts on.
public struct SourceRecord: Sendable {
    /// 1-based line of the file where the record starts.
    public var line: Int
    public var fields: [String]
    /// NDJSON: the parsed object. CSV: nil.
    public var object: JSONValueBox?
    /// The record's text as read, for the rejects file of an NDJSON source.
    public var text: String?
}

/// Holds an NDJSON object (a box keeps ``SourceRecord`` small for CSV rows).
public final class JSONValueBox: Sendable {
    public let value: JSONValue
    init(_ value: JSONValue) { self.value = value }
}

/// A problem with the source file as a whole: the import is refused and nothing is stored.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// Reads a file in chunks, hashing every byte read (SHA-256) and counting them, in memory bounded by the chunk size.
///
/// Readers take the position out as a ``ByteCursor`` for a record and put it back after: stepping a local
/// value costs a fraction of stepping a class's stored properties, and this runs for every byte of an import.
final class ChunkedFile {
    private let handle: FileHandle
    private var hasher = SHA256()
    private(set) var bytesRead: Int64 = 0
    let size: Int64
    var cursor = ByteCursor()
    private var ended = false

    init(path: String) throws(SourceError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SourceError(file: path, line: nil, message: "cannot read the file: no such file, or no permission")
        }
        self.handle = handle
        size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    deinit { try? handle.close() }

    /// The next chunk of the file, hashed and counted; nil at the end.
    func read() -> [UInt8]? {
        guard !ended else { return nil }
        let data = (try? handle.read(upToCount: 1 << 20)) ?? nil
        guard let data, !data.isEmpty else {
            ended = true
            return nil
        }
        let chunk = Array(data)
        bytesRead += Int64(chunk.count)
        hasher.update(data: chunk)
        return chunk
    }

    /// The next byte, or nil at the end of the file.
    func next() -> UInt8? {
        var local = cursor
        defer { cursor = local }
        return local.next(self)
    }

    /// The next byte without consuming it.
    func peek() -> UInt8? {
        var local = cursor
        defer { cursor = local }
        return local.peek(self)
    }

    /// Reads to the end (so that the hash covers the whole file) and returns the SHA-256 in hexadecimal.
    func finishHash() -> String {
        while read() != nil {}
        cursor = ByteCursor()
        return Hex.encode(hasher.finalize())
    }
}

/// A position in a ``ChunkedFile``'s current chunk.
struct ByteCursor {
    private var chunk: [UInt8] = []
    private var offset = 0

    @inline(__always)
    mutating func next(_ file: ChunkedFile) -> UInt8? {
        if offset == chunk.count {
            guard let fresh = file.read() else { return nil }
            chunk = fresh
            offset = 0
        }
        let byte = chunk[offset]
        offset += 1
        return byte
    }

    @inline(__always)
    mutating func peek(_ file: ChunkedFile) -> UInt8? {
        if offset == chunk.count {
            guard let fresh = file.read() else { return nil }
            chunk = fresh
            offset = 0
        }
        return chunk[offset]
    }
}

/// The text encodings an import reads.
public enum SourceEncoding: String, Sendable {
    case utf8 = "utf-8"
    case latin1 = "latin-1"

    func decode(_ bytes: [UInt8]) -> String? {
        switch self {
        case .utf8: String(validating: bytes, as: UTF8.self)
        case .latin1: String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }
}

/// RFC 4180 CSV, streamed: quoted fields with embedded delimiters, quotes (`""`) and newlines; CRLF or LF
/// line ends; a UTF-8 byte order mark is skipped.
final class CSVReader {
    private let file: ChunkedFile
    private let path: String
    private let delimiter: UInt8
    private let encoding: SourceEncoding
    private var line = 1

    init(path: String, delimiter: UInt8, encoding: SourceEncoding) throws(SourceError) {
        self.path = path
        file = try ChunkedFile(path: path)
        self.delimiter = delimiter
        self.encoding = encoding
        if encoding == .utf8, file.peek() == 0xEF {
            // A byte order mark: EF BB BF.
            _ = file.next()
            guard file.next() == 0xBB, file.next() == 0xBF else {
                throw SourceError(file: path, line: 1, message: "the file starts with bytes that are not UTF-8; is it latin-1?")
            }
        }
    }

    var bytesRead: Int64 { file.bytesRead }
    var size: Int64 { file.size }
    func finishHash() -> String { file.finishHash() }

    /// The next record, or nil at the end. Blank lines are skipped.
    func next() throws(SourceError) -> SourceRecord? {
        var bytes = file.cursor
        defer { file.cursor = bytes }
        while true {
            guard bytes.peek(file) != nil else { return nil }
            let start = line
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            var afterQuote = false
            var blank = true
            func endField() throws(SourceError) {
                guard let text = encoding.decode(field) else {
                    throw SourceError(
                        file: path, line: start,
                        message: "field \(fields.count + 1) is not valid UTF-8; if the file is latin-1, set \"encoding\": \"latin-1\" in the mapping's source")
                }
                fields.append(text)
                field.removeAll(keepingCapacity: true)
                afterQuote = false
            }
            recordLoop: while let byte = bytes.next(file) {
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if bytes.peek(file) == UInt8(ascii: "\"") {
                            _ = bytes.next(file)
                            field.append(byte)
                        } else {
                            quoted = false
                            afterQuote = true
                        }
                    } else {
                        if byte == UInt8(ascii: "\n") { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case delimiter:
                    blank = false
                    try endField()
                case UInt8(ascii: "\n"):
                    line += 1
                    break recordLoop
                case UInt8(ascii: "\r") where bytes.peek(file) == UInt8(ascii: "\n"):
                    continue
                case UInt8(ascii: "\"") where field.isEmpty && !afterQuote:
                    quoted = true
                    blank = false
                default:
                    if afterQuote {
                        throw SourceError(
                            file: path, line: line,
                            message: "field \(fields.count + 1): a character follows the closing quote; a quote inside a quoted field is written \"\"")
                    }
                    blank = false
                    field.append(byte)
                }
            }
            if quoted {
                throw SourceError(file: path, line: start, message: "a quoted field is not closed before the end of the file")
            }
            if blank && field.isEmpty { continue }
            try endField()
            return SourceRecord(line: start, fields: fields)
        }
    }
}

/// NDJSON, streamed: one JSON object per line; blank lines are skipped.
final class NDJSONReader {
    private let file: ChunkedFile
    private let path: String
    private var line = 0

    init(path: String) throws(SourceError) {
        self.path = path
        file = try ChunkedFile(path: path)
    }

    var bytesRead: Int64 { file.bytesRead }
    var size: Int64 { file.size }
    func finishHash() -> String { file.finishHash() }

    /// The next record, or nil at the end; a line that is not a JSON object is a ``SourceError``.
    func next() throws(SourceError) -> SourceRecord? {
        var bytes: [UInt8] = []
        while true {
            bytes.removeAll(keepingCapacity: true)
            guard file.peek() != nil else { return nil }
            line += 1
            while let byte = file.next(), byte != UInt8(ascii: "\n") { bytes.append(byte) }
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                throw SourceError(file: path, line: line, message: "not a JSON object: \(error)")
            }
            guard case .object = value else {
                throw SourceError(file: path, line: line, message: "each line must be a JSON object, got \(value.typeName)")
            }
            return SourceRecord(line: line, fields: [], object: JSONValueBox(value), text: String(decoding: bytes, as: UTF8.self))
        }
    }
}
