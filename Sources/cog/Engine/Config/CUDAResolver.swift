/// Table look-ups behind Cog's CUDA completion and framework wheel choice (`pkg/config/compatibility.go`).
///
/// Every function is a pure query of `tables`; the decisions and messages live in `ConfigCompleter`.
struct CUDAResolver: Sendable {
    let tables: CompatibilityTables

    /// CUDA versions torch `version` has builds for, ascending. A `+cuXYZ` local part names exactly one.
    func cudas(forTorch version: String) -> [String] {
        let plain = ReleaseVersion.strippingLocal(version)
        if let local = ReleaseVersion(version)?.local, local.hasPrefix("cu"), local.count > 3 {
            let digits = local.dropFirst(2)
            let cuda = "\(digits.dropLast()).\(digits.suffix(1))"
            if tables.torch.contains(where: {
                $0.cuda == cuda && ReleaseVersion.matches(plain, ReleaseVersion.strippingLocal($0.torch))
            }) {
                return [cuda]
            }
        }
        let found = tables.torch.compactMap { row in
            ReleaseVersion.matches(plain, ReleaseVersion.strippingLocal(row.torch)) ? row.cuda : nil
        }
        return Array(Set(found)).sorted {
            (ReleaseVersion($0) ?? .init(major: 0, minor: 0)) < (ReleaseVersion($1) ?? .init(major: 0, minor: 0))
        }
    }

    /// Python minors torch `version` has wheels for, by the table; nil when the table does not know it.
    func pythons(forTorch version: String) -> Set<String>? {
        let plain = ReleaseVersion.strippingLocal(version)
        let rows = tables.torch.filter { ReleaseVersion.matches(plain, ReleaseVersion.strippingLocal($0.torch)) }
        return rows.isEmpty ? nil : Set(rows.flatMap(\.pythons))
    }

    /// The TensorFlow release exactly equal to `version`, if the table has it.
    func tensorflow(_ version: String) -> TensorFlowBuild? {
        tables.tensorflow.first { $0.tensorflow == version }
    }

    /// cuDNN majors with an nvidia/cuda image for `cuda`, highest first.
    func cudnns(forCUDA cuda: String) -> [String] {
        let found = tables.cudaImages.filter { ReleaseVersion.matches(cuda, $0.cuda) }.map(\.cudnn)
        return Array(Set(found)).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
    }

    /// CUDA versions of the nvidia/cuda images sharing `cuda`'s major.minor, for suggestions.
    func imageCUDAs(near cuda: String) -> [String] {
        guard let wanted = ReleaseVersion(cuda) else { return [] }
        let found = tables.cudaImages.map(\.cuda).filter { ReleaseVersion($0)?.sameMinor(wanted) ?? false }
        return Array(Set(found)).sorted()
    }

    /// Cog's `cudaBaseImageFor`: the image matching `cuda` with exactly `cudnn`, newest CUDA then newest Ubuntu.
    func baseImage(cuda: String, cudnn: String) -> CUDAImage? {
        tables.cudaImages
            .filter { ReleaseVersion.matches(cuda, $0.cuda) && $0.cudnn == cudnn }
            .max { lhs, rhs in
                let (left, right) = (ReleaseVersion(lhs.cuda), ReleaseVersion(rhs.cuda))
                if let left, let right, left != right { return left < right }
                return (ReleaseVersion(lhs.ubuntu) ?? .init(major: 0, minor: 0))
                    < (ReleaseVersion(rhs.ubuntu) ?? .init(major: 0, minor: 0))
            }
    }

    /// The GPU torch build for `version`: highest CUDA not above `cuda`, then the newest torch (Cog's `torchGPUPackage`).
    func torchGPU(version: String, cuda: String) -> TorchBuild? {
        guard let limit = ReleaseVersion(cuda) else { return nil }
        let plain = ReleaseVersion.strippingLocal(version)
        return tables.torch
            .filter { row in
                guard let rowCUDA = row.cuda.flatMap(ReleaseVersion.init) else { return false }
                return ReleaseVersion.matches(ReleaseVersion.strippingLocal(row.torch), plain) && !(limit < rowCUDA)
            }
            .max { lhs, rhs in
                let (left, right) = (
                    ReleaseVersion(lhs.cuda ?? "") ?? .init(major: 0, minor: 0),
                    ReleaseVersion(rhs.cuda ?? "") ?? .init(major: 0, minor: 0)
                )
                if left != right { return left < right }
                return (ReleaseVersion(ReleaseVersion.strippingLocal(lhs.torch)) ?? left)
                    < (ReleaseVersion(ReleaseVersion.strippingLocal(rhs.torch)) ?? right)
            }
    }

    /// The CPU torch build whose version is exactly `version` (Cog's `torchCPUPackage`).
    func torchCPU(version: String) -> TorchBuild? {
        tables.torch.first { $0.cuda == nil && ReleaseVersion.strippingLocal($0.torch) == version }
    }

    /// The GPU torchvision build for `version` with the highest CUDA not above `cuda`.
    func torchvisionGPU(version: String, cuda: String) -> TorchBuild? {
        guard let limit = ReleaseVersion(cuda) else { return nil }
        return tables.torch
            .filter { row in
                guard let rowCUDA = row.cuda.flatMap(ReleaseVersion.init) else { return false }
                return ReleaseVersion.strippingLocal(row.torchvision) == version && !(limit < rowCUDA)
            }
            .max {
                (ReleaseVersion($0.cuda ?? "") ?? .init(major: 0, minor: 0))
                    < (ReleaseVersion($1.cuda ?? "") ?? .init(major: 0, minor: 0))
            }
    }

    /// The CPU torchvision build whose version is exactly `version`.
    func torchvisionCPU(version: String) -> TorchBuild? {
        tables.torch.first { $0.cuda == nil && ReleaseVersion.strippingLocal($0.torchvision) == version }
    }
}
