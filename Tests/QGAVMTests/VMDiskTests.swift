import Foundation
import QGATestSupport
import Testing

/// libvirt parses guest-get-disks and guest-get-fsinfo strictly (qemuAgentGetDisks,
/// qemuAgentGetFSInfo): one address without a member it needs, and the whole call fails.
/// Run against whichever agent the guest has, like the rest of VMLibvirtFeatureTests.
extension VMLibvirtFeatureTests {
    /// `key : value` lines of `virsh guestinfo` as a dictionary.
    func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            result[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    @Test func guestinfoDisksMatchTheDomainsDisk() throws {
        let info = try virsh(["guestinfo", bed.domain, "--disk"])
        let f = fields(info.stdoutText)
        let count = Int(f["disk.count"] ?? "") ?? 0
        #expect(count >= 1, "\(info)")
        let index = try #require((0..<count).first { f["disk.\($0).name"] == "/dev/vda" }, "\(info)")
        #expect(f["disk.\(index).partition"] == "no", "\(info)")
        // libvirt matched the agent's address (PCI controller, bus type) to the domain's disk.
        #expect(f["disk.\(index).alias"] == "vda", "\(info)")
        // No dependencies: libvirt 9.0 leaves the count out, newer versions say 0.
        #expect([nil, "0"].contains(f["disk.\(index).dependency.count"]), "\(info)")
    }

    @Test func domfsinfoNamesTheDomainsDisk() throws {
        let info = try virsh(["domfsinfo", bed.domain])
        let row = info.stdoutText.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.first == "/mnt/data" }
        // Mountpoint, name in the guest, type, and the domain disk libvirt matched.
        #expect(row?.map(String.init) == ["/mnt/data", "vda", "ext4", "vda"], "\(info)")
    }
}
