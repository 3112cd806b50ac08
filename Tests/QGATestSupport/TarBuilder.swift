/// Tar archives written byte by byte for tests, including ones no honest tar would write
/// (absolute names, `..`, a file through a symbolic link).
public enum TarBuilder {
    /// One ustar header (type `type`: "0" file, "2" symlink, "5" directory...) and its data.
    public static func entry(_ name: String, type: Character, data: [UInt8] = [], link: String = "", mode: Int = 0o644) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ offset: Int) { for (i, b) in bytes.enumerated() { header[offset + i] = b } }
        func octal(_ value: Int, _ width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
        }
        put(Array(name.utf8), 0)
        put(octal(mode, 8), 100)
        put(octal(0, 8), 108)
        put(octal(0, 8), 116)
        put(octal(data.count, 12), 124)
        put(octal(0, 12), 136)
        put(Array(String(type).utf8), 156)
        put(Array(link.utf8), 157)
        put(Array("ustar\u{0}00".utf8), 257)
        put([UInt8](repeating: 0x20, count: 8), 148)
        put(octal(header.reduce(0) { $0 + Int($1) }, 7) + [0x20], 148)
        return header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The two zero blocks that end an archive.
    public static let end = [UInt8](repeating: 0, count: 1024)
}
