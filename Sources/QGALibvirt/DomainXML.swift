/// The guest agent channels a domain's XML declares.
///
/// libvirt writes its XML in one regular shape, so a small scanner for the few elements
/// needed serves better than an XML stack (and keeps Foundation's XML out of qga).
public struct AgentChannel: Sendable, Equatable {
    /// The virtio-serial port name, such as `org.qemu.guest_agent.0`.
    public var name: String
    /// The channel's type (`unix` for a socket on the host).
    public var type: String
    /// The host socket path, when the channel is a unix socket.
    public var path: String?
    /// `connected` or `disconnected` while the domain runs (whether the agent has the port open).
    public var state: String?

    /// The channel libvirt itself connects to and owns.
    public static let libvirtManagedName = "org.qemu.guest_agent.0"

    public var isLibvirtManaged: Bool { name == AgentChannel.libvirtManagedName }

    /// Every channel whose target name is an agent port (`org.qemu.guest_agent.N`).
    public static func all(inDomainXML xml: String) -> [AgentChannel] {
        elements(named: "channel", in: xml).compactMap { channel in
            guard let target = firstTag("target", in: channel.body),
                let name = attribute("name", of: target), name.hasPrefix("org.qemu.guest_agent.")
            else { return nil }
            let source = firstTag("source", in: channel.body)
            return AgentChannel(
                name: name, type: attribute("type", of: channel.tag) ?? "",
                path: source.flatMap { attribute("path", of: $0) }, state: attribute("state", of: target))
        }
    }
}

/// The opening tag and body of each `<name ...>...</name>` element (or `<name .../>`).
func elements(named name: String, in xml: String) -> [(tag: Substring, body: Substring)] {
    var found: [(Substring, Substring)] = []
    var rest = xml[...]
    while let open = rest.firstRange(of: "<\(name)") {
        let after = rest[open.upperBound...]
        guard let next = after.first, next == " " || next == ">" || next == "/" || next == "\n" || next == "\t",
            let tagEnd = after.firstIndex(of: ">")
        else {
            rest = after
            continue
        }
        let tag = rest[open.lowerBound...tagEnd]
        if tag.hasSuffix("/>") {
            found.append((tag, ""))
            rest = rest[rest.index(after: tagEnd)...]
            continue
        }
        let bodyStart = rest.index(after: tagEnd)
        guard let close = rest[bodyStart...].firstRange(of: "</\(name)>") else { break }
        found.append((tag, rest[bodyStart..<close.lowerBound]))
        rest = rest[close.upperBound...]
    }
    return found
}

/// The first opening tag `<name ...>` in `xml`.
func firstTag(_ name: String, in xml: Substring) -> Substring? {
    elements(named: name, in: String(xml)).first.map { Substring($0.tag) }
}

/// The unescaped value of attribute `name` in an opening tag.
func attribute(_ name: String, of tag: Substring) -> String? {
    var rest = tag
    while let r = rest.firstRange(of: name + "=") {
        let before = r.lowerBound == tag.startIndex ? " " : tag[tag.index(before: r.lowerBound)]
        let valueStart = r.upperBound
        guard valueStart < rest.endIndex else { return nil }
        let quote = rest[valueStart]
        rest = rest[r.upperBound...]
        guard before == " " || before == "\n" || before == "\t", quote == "'" || quote == "\"" else { continue }
        let inner = rest.dropFirst()
        guard let end = inner.firstIndex(of: quote) else { return nil }
        return unescapeXML(inner[..<end])
    }
    return nil
}

func unescapeXML(_ text: Substring) -> String {
    guard text.contains("&") else { return String(text) }
    return String(text).replacingEntities()
}

extension String {
    fileprivate func replacingEntities() -> String {
        var out = ""
        var rest = self[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) {
                    out.unicodeScalars.append(s)
                } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let s = Unicode.Scalar(v) {
                    out.unicodeScalars.append(s)
                } else {
                    out += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
