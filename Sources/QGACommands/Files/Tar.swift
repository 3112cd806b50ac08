/// The tar format as `qga cp -r` needs it: a writer of ustar headers (with pax records for
/// long names and large sizes) and a reader that accepts what GNU tar, busybox tar and pax
/// writers produce. Paths are bytes, as Linux file names are; nothing here touches files.
enum Tar {
    static let block = 512

    /// What an entry is.
    enum Kind: Equatable {
        case file
        case directory
        case symlink(target: [UInt8])
        case hardlink(target: [UInt8])
        /// A device node, FIFO or anything else (its type flag).
        case other(UInt8)
    }

    /// One member's header: its path as written in the archive, its kind, permission bits
    /// and the size of the data that follows.
    struct Entry: Equatable {
        var path: [UInt8]
        var kind: Kind
        var mode: UInt32
        var size: Int
        /// Seconds since the epoch (written, not read: the host keeps its own times).
        var mtime: Int = 0
    }

    /// Something wrong with an archive: damaged, or asking for what qga does not do.
    struct Failure: Error, Equatable {
        var message: String
    }

    // MARK: Writing

    /// The header blocks for `entry` (one, or three with a pax record before it).
    static func header(for entry: Entry) -> [UInt8] {
        let typeflag: UInt8
        var link: [UInt8] = []
        switch entry.kind {
        case .file: typeflag = UInt8(ascii: "0")
        case .directory: typeflag = UInt8(ascii: "5")
        case .symlink(let target): typeflag = UInt8(ascii: "2"); link = target
        case .hardlink(let target): typeflag = UInt8(ascii: "1"); link = target
        case .other(let flag): typeflag = flag
        }
        var records: [UInt8] = []
        if entry.path.count > 100 { records += paxRecord("path", entry.path) }
        if link.count > 100 { records += paxRecord("linkpath", link) }
        let sizeFits = entry.size <= 0o777_7777_7777
        if !sizeFits { records += paxRecord("size", Array(String(entry.size).utf8)) }
        var out: [UInt8] = []
        if !records.isEmpty {
            out += ustar(name: Array("././@PaxHeader".utf8), mode: 0o644, size: records.count, mtime: 0, typeflag: UInt8(ascii: "x"), link: [])
            out += padded(records)
        }
        out += ustar(name: Array(entry.path.prefix(100)), mode: entry.mode, size: sizeFits ? entry.size : 0, mtime: min(max(entry.mtime, 0), 0o777_7777_7777), typeflag: typeflag, link: Array(link.prefix(100)))
        return out
    }

    /// The zeros that follow `size` bytes of data to the next block.
    static func padding(after size: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: (block - size % block) % block)
    }

    /// The end of an archive: two zero blocks.
    static let end = [UInt8](repeating: 0, count: 2 * block)

    private static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + padding(after: bytes.count) }

    /// `LEN key=value\n`, where LEN counts the whole record, itself included.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.utf8.count + 1 + value.count + 1
        var length = rest + 1
        while String(length).utf8.count + rest != length { length = String(length).utf8.count + rest }
        return Array("\(length) \(key)=".utf8) + value + [0x0A]
    }

    private static func ustar(name: [UInt8], mode: UInt32, size: Int, mtime: Int, typeflag: UInt8, link: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: block)
        func put(_ bytes: [UInt8], at offset: Int) { header.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(width - 1 - digits.utf8.count, 0)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(Int(mode & 0o7777), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        header[156] = typeflag
        put(link, at: 157)
        put(Array("ustar\0".utf8) + Array("00".utf8), at: 257)
        put([UInt8](repeating: 0x20, count: 8), at: 148)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [0x20], at: 148)
        return header
    }

    // MARK: Reading

    /// The most a pax record block or a GNU long name may hold: far above PATH_MAX, far
    /// below anything that would hurt.
    static let maxMetadata = 1 << 20

    /// Reads an archive from `source`, which returns the next bytes (any amount, empty at
    /// the end). Every size is checked before it is used; nothing is buffered beyond one
    /// chunk of the source and one metadata block.
    final class Reader {
        private let source: () throws -> [UInt8]
        private var buffer: [UInt8] = []
        private var position = 0
        /// Data bytes of the current entry not yet consumed, and its padding.
        private var remaining = 0
        private var pad = 0

        init(_ source: @escaping () throws -> [UInt8]) { self.source = source }

        /// The next entry, or nil at the end of the archive. Skips whatever is left of the
        /// previous entry's data.
        func next() throws -> Entry? {
            try skipData()
            var longPath: [UInt8]?
            var longLink: [UInt8]?
            var paxSize: Int?
            while true {
                let header = try take(block)
                // The end marker; what follows it (more zeros, a record's padding) is not read.
                if header.allSatisfy({ $0 == 0 }) { return nil }
                guard Tar.checksumMatches(header) else { throw Failure(message: "a header's checksum is wrong (not a tar archive, or a damaged one)") }
                let typeflag = header[156]
                let size = try Tar.number(header[124..<136], "size")
                switch typeflag {
                case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
                    guard size <= Tar.maxMetadata else { throw Failure(message: "an extended header of \(size) bytes is larger than allowed") }
                    let data = try take(size)
                    _ = try take(Tar.padding(after: size).count)
                    if typeflag == UInt8(ascii: "x") {
                        for (key, value) in try Tar.paxRecords(data) {
                            switch key {
                            case "path": longPath = value
                            case "linkpath": longLink = value
                            case "size": paxSize = try Tar.decimal(value)
                            default: break
                            }
                        }
                    } else if typeflag == UInt8(ascii: "L") {
                        longPath = Tar.cString(data[...])
                    } else if typeflag == UInt8(ascii: "K") {
                        longLink = Tar.cString(data[...])
                    }
                    continue
                default:
                    break
                }
                var path = longPath ?? Tar.cString(header[0..<100])
                // POSIX ustar keeps a name's start in the prefix; GNU's format ("ustar  ")
                // keeps other things there.
                if longPath == nil, Array(header[257..<263]) == Array("ustar\0".utf8), header[345] != 0 {
                    path = Tar.cString(header[345..<500]) + [UInt8(ascii: "/")] + path
                }
                let link = longLink ?? Tar.cString(header[157..<257])
                let mode = UInt32(truncatingIfNeeded: try Tar.number(header[100..<108], "mode") & 0o7777)
                let entrySize = paxSize ?? size
                let kind: Kind
                switch typeflag {
                case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
                case UInt8(ascii: "5"): kind = .directory
                case UInt8(ascii: "2"): kind = .symlink(target: link)
                case UInt8(ascii: "1"): kind = .hardlink(target: link)
                default: kind = .other(typeflag)
                }
                // Only files carry data; a size on anything else is skipped as tar does.
                remaining = entrySize
                pad = Tar.padding(after: entrySize).count
                return Entry(path: path, kind: kind, mode: mode, size: kind == .file ? entrySize : 0)
            }
        }

        /// Up to `limit` bytes of the current entry's data; empty once it is all read.
        func data(upTo limit: Int) throws -> [UInt8] {
            guard remaining > 0 else { return [] }
            let count = min(limit, remaining)
            let bytes = try take(count, partial: true)
            remaining -= bytes.count
            return bytes
        }

        private func skipData() throws {
            while remaining > 0 { _ = try data(upTo: 1 << 20) }
            if pad > 0 { _ = try take(pad) }
            pad = 0
        }

        /// `count` bytes (or, with `partial`, at least one and at most `count`); an error
        /// when the archive stops early.
        private func take(_ count: Int, partial: Bool = false) throws -> [UInt8] {
            var out: [UInt8] = []
            while out.count < count {
                if position == buffer.count {
                    buffer = try source()
                    position = 0
                    if buffer.isEmpty {
                        throw Failure(message: "the archive ends early (in an entry, or without its end marker)")
                    }
                }
                let n = min(count - out.count, buffer.count - position)
                out += buffer[position..<position + n]
                position += n
                if partial { break }
            }
            return out
        }
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = try? number(header[148..<156], "checksum") else { return false }
        var unsigned = 0
        var signed = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        return stored == unsigned || stored == signed
    }

    /// An octal field (spaces and NULs around it), or GNU's base-256 for large values.
    static func number(_ field: ArraySlice<UInt8>, _ name: String) throws -> Int {
        if let first = field.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw Failure(message: "a header's \(name) is negative or too large") }
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { throw Failure(message: "a header's \(name) is too large") }
                value = value << 8 | Int(byte)
            }
            return value
        }
        var value = 0
        var digits = field.drop { $0 == 0x20 || $0 == 0 }
        digits = digits.prefix { $0 != 0x20 && $0 != 0 }
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value <= (Int.max >> 3) else {
                throw Failure(message: "a header's \(name) is not a number")
            }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func decimal(_ bytes: [UInt8]) throws -> Int {
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int(String(decoding: bytes, as: UTF8.self))
        else { throw Failure(message: "a pax size is not a number") }
        return value
    }

    /// The bytes of a NUL-terminated field.
    static func cString(_ field: ArraySlice<UInt8>) -> [UInt8] {
        Array(field.prefix { $0 != 0 })
    }

    /// `LEN key=value\n` records.
    static func paxRecords(_ data: [UInt8]) throws -> [(String, [UInt8])] {
        var records: [(String, [UInt8])] = []
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: 0x20),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > space - index,
                length <= data.count - index, data[index + length - 1] == 0x0A,
                let equals = data[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
            else { throw Failure(message: "a pax header is malformed") }
            records.append((String(decoding: data[(space + 1)..<equals], as: UTF8.self), Array(data[(equals + 1)..<(index + length - 1)])))
            index += length
        }
        return records
    }
}
