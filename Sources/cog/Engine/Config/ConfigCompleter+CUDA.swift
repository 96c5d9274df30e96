/// CUDA/cuDNN completion for GPU builds and the torch/torchvision/tensorflow wheel rewrite
/// (Cog's `validateAndCompleteCUDA` and `PythonRequirementsForArch`).
extension ConfigCompleter {
    /// Cog's CUDA when neither torch nor tensorflow asks for one.
    static let defaultCUDA = "11.8"

    mutating func resolveCUDA(torch: Framework?, tensorflow: Framework?) {
        let cudaMark = decoded.marks["build.cuda"] ?? decoded.marks["build.gpu"]
        cuda = build.cuda
        cudnn = build.cudnn
        if let cuda, let cudnn {
            let available = resolver.cudnns(forCUDA: cuda)
            if !available.isEmpty, !available.contains(cudnn) {
                yamlLog.error(
                    "cuDNN \(cudnn) has no nvidia/cuda image for CUDA \(cuda); its images have cuDNN \(available.joined(separator: ", "))",
                    at: decoded.marks["build.cudnn"],
                    hint: "set cudnn: \"\(available[0])\" or remove cudnn to let cog choose")
                return
            }
        }
        if let tensorflow {
            guard resolveFromTensorFlow(tensorflow) else { return }
        } else if let torch {
            guard let version = torch.version, !version.isEmpty else {
                report(
                    .error,
                    RuleViolation(
                        message: "torch version must be specified when using CUDA",
                        hint: "pin torch, e.g. torch==2.7.1, so cog can choose the CUDA version and the wheel index"),
                    torch.line)
                return
            }
            if !torch.exact {
                report(
                    .warning,
                    RuleViolation(
                        message:
                            "\"\(torch.line.text)\" does not pin one torch version; CUDA is chosen for torch \(version)",
                        hint: "pin torch==\(version) so the installed torch matches the CUDA image"), torch.line)
            }
            let known = resolver.cudas(forTorch: version)
            if let cuda {
                if !known.contains(where: {
                    ReleaseVersion($0).flatMap { c in ReleaseVersion(cuda).map(c.sameMinor) } ?? false
                }) {
                    yamlLog.warning(
                        "cog doesn't know if CUDA \(cuda) is compatible with torch \(version); this might cause CUDA problems",
                        at: cudaMark, hint: known.last.map { "try cuda: \"\($0)\"" })
                }
            } else {
                guard let latest = known.last else {
                    report(
                        .error,
                        RuleViolation(
                            message: "cog doesn't know which CUDA version torch==\(version) needs",
                            hint:
                                "set build.cuda (pytorch.org lists the CUDA builds of each release), or pin a torch release cog knows (\(torchRange))"
                        ), torch.line)
                    return
                }
                cuda = latest
            }
        }
        let chosen = cuda ?? Self.defaultCUDA
        cuda = chosen
        if cudnn == nil { cudnn = resolver.cudnns(forCUDA: chosen).first }
        guard let cudnn, let image = resolver.baseImage(cuda: chosen, cudnn: cudnn) else {
            let near = resolver.imageCUDAs(near: chosen)
            yamlLog.error(
                "CUDA \(chosen) has no nvidia/cuda image with cuDNN that cog can build on", at: cudaMark,
                hint: near.isEmpty
                    ? "use a CUDA version with images, e.g. cuda: \"\(Self.defaultCUDA)\""
                    : "images exist for \(near.joined(separator: ", ")): use cuda: \"\(ReleaseVersion(chosen)?.majorMinor ?? chosen)\""
            )
            return
        }
        cudaBaseImage = image.reference
    }

    /// Sets CUDA and cuDNN from the tensorflow pin; false when an error ends the resolution.
    private mutating func resolveFromTensorFlow(_ tensorflow: Framework) -> Bool {
        let version = tensorflow.version ?? ""
        let row = resolver.tensorflow(version)
        if let cuda {
            if let row, let wanted = ReleaseVersion(row.cuda), let given = ReleaseVersion(cuda),
                wanted.major != given.major
            {
                yamlLog.error(
                    "TensorFlow \(version) requires CUDA \(row.cuda), but cuda is \(cuda)",
                    at: decoded.marks["build.cuda"], hint: "set cuda: \"\(row.cuda)\" or remove cuda")
                return false
            }
            if let row, let wanted = ReleaseVersion(row.cuda), let given = ReleaseVersion(cuda),
                !wanted.sameMinor(given)
            {
                yamlLog.warning(
                    "cog doesn't know if CUDA \(cuda) is compatible with TensorFlow \(version); this might cause CUDA problems",
                    at: decoded.marks["build.cuda"], hint: "try cuda: \"\(row.cuda)\"")
            }
        } else {
            guard let row else {
                report(
                    .error,
                    RuleViolation(
                        message: "cog doesn't know which CUDA version tensorflow==\(version) needs",
                        hint:
                            "set build.cuda (tensorflow.org/install/source lists it), or pin a TensorFlow release cog knows (\(tensorflowRange))"
                    ), tensorflow.line)
                return false
            }
            cuda = row.cuda
        }
        if let row, let cudnn, cudnn != row.cudnn {
            yamlLog.error(
                "cuDNN \(cudnn) is not compatible with tensorflow==\(version), which needs cuDNN \(row.cudnn)",
                at: decoded.marks["build.cudnn"],
                hint: "set cudnn: \"\(row.cudnn)\" or remove cudnn")
            return false
        }
        if cudnn == nil, let row { cudnn = row.cudnn }
        return true
    }

    private var torchRange: String {
        let versions = resolver.tables.torch.compactMap { ReleaseVersion(ReleaseVersion.strippingLocal($0.torch)) }
            .sorted()
        return "\(versions.first?.description ?? "?") to \(versions.last?.description ?? "?")"
    }

    private var tensorflowRange: String {
        "\(resolver.tables.tensorflow.first?.tensorflow ?? "?") to \(resolver.tables.tensorflow.last?.tensorflow ?? "?")"
    }

    // MARK: - Wheel rewrite

    /// The requirements.txt lines: `--find-links` and `--extra-index-url` options first, then every requirement in
    /// order with torch/torchvision/tensorflow pins pointed at the wheels for this CUDA (or CPU), and `cog` and
    /// `coglet` removed because the plan installs the runtime itself.
    mutating func rewriteRequirements() -> [String] {
        var findLinks: [String] = []
        var indexURLs: [String] = []
        var packages: [String] = []
        for line in lines {
            if let artifact = artifacts[line.text] {
                packages.append(artifact.target)
                continue
            }
            if let name = Requirements.packageName(line.text).map(Requirements.normalized),
                ["cog", "coglet"].contains(name)
            {
                report(
                    .warning,
                    RuleViolation(
                        message:
                            "\"\(line.text)\" is removed from the requirements: the image gets \(name == "cog" ? "the cog runtime chosen by cog.yaml" : "coglet with cog")",
                        hint: "remove it, and set build.sdk_version to choose the cog version"), line)
                continue
            }
            guard let pinned = Requirements.pinned(line.text) else {
                packages.append(line.text)
                continue
            }
            var (requirement, extraIndex, links) = (
                "\(pinned.name)==\(pinned.version)", pinned.extraIndexURLs, pinned.findLinks
            )
            if extraIndex.isEmpty, links.isEmpty, let wheel = wheel(for: pinned, line: line) {
                requirement = wheel.requirement
                if !wheel.indexURL.isEmpty { extraIndex = [wheel.indexURL] }
            }
            packages.append(requirement)
            for url in extraIndex where !indexURLs.contains(url) { indexURLs.append(url) }
            for link in links where !findLinks.contains(link) { findLinks.append(link) }
        }
        return findLinks.map { "--find-links \($0)" } + indexURLs.map { "--extra-index-url \($0)" } + packages
    }

    /// The wheel Cog installs for a pinned torch, torchvision or tensorflow; nil to keep the line as written.
    private mutating func wheel(for pinned: PinnedRequirement, line: RequirementLine) -> (
        requirement: String, indexURL: String
    )? {
        let name = pinned.name
        switch Requirements.normalized(name) {
        case "torch":
            if build.gpu, let cuda {
                return resolver.torchGPU(version: pinned.version, cuda: cuda).map {
                    ("\(name)==\(ReleaseVersion.strippingLocal($0.torch))", $0.indexURL)
                }
            }
            return build.gpu
                ? nil
                : resolver.torchCPU(version: pinned.version).map {
                    ("\(name)==\(ReleaseVersion.strippingLocal($0.torch))", $0.indexURL)
                }
        case "torchvision":
            if build.gpu, let cuda {
                guard let row = resolver.torchvisionGPU(version: pinned.version, cuda: cuda) else {
                    report(
                        .warning,
                        RuleViolation(
                            message:
                                "cog doesn't know if CUDA \(cuda) is compatible with torchvision \(pinned.version); this might cause CUDA problems",
                            hint: nil), line)
                    return nil
                }
                return ("\(name)==\(ReleaseVersion.strippingLocal(row.torchvision))", row.indexURL)
            }
            return build.gpu
                ? nil
                : resolver.torchvisionCPU(version: pinned.version).map { ("\(name)==\($0.torchvision)", $0.indexURL) }
        case "tensorflow":
            guard build.gpu, let cuda, let row = resolver.tensorflow(pinned.version),
                let rowCUDA = ReleaseVersion(row.cuda), let given = ReleaseVersion(cuda), !(rowCUDA < given),
                !(given < rowCUDA)
            else { return nil }
            return (row.gpuPackage, "")
        default:
            return nil
        }
    }
}
