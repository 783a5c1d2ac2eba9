"""Tests for coursekit.models: torchvision compatibility, layer names, weights, feature extraction.

Fast, offline, deterministic. Torchvision reference models are built on the meta device
(keys and shapes only) or materialised and filled by our seeded init with a different
seed, so no test downloads anything or pays for torchvision's slow global-RNG init.
"""

import copy
import shutil
import socket
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
import torchvision.models._api as tv_api
from torch import nn

import coursekit.models as M
from coursekit.models.weights import IMAGENET_WEIGHTS

ARCHS = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


def tv_model(arch: str, seed: int = 1) -> nn.Module:
    """A real torchvision model (in-place ReLUs and all) with seeded random weights, in eval mode."""
    with torch.device("meta"):
        model = getattr(torchvision.models, arch)(weights=None)
    model = M.init_weights_(model.to_empty(device="cpu"), seed)
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():  # non-trivial BN statistics, so the BN comparison means something
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0.0, 0.1, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
    return model.eval()


def shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.fixture
def network_calls(monkeypatch):
    """Make every way out to the network record the attempt and fail; the test asserts the list stays empty."""
    calls: list[str] = []

    def forbid(name):
        def fail(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"network attempt: {name}{args}")

        return fail

    monkeypatch.setattr(socket, "create_connection", forbid("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", forbid("socket.getaddrinfo"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", forbid("torch.hub.load_state_dict_from_url"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", forbid("torch.hub.download_url_to_file"))
    monkeypatch.setattr(tv_api, "load_state_dict_from_url", forbid("torchvision load_state_dict_from_url"))
    return calls


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    """An empty torch.hub cache, so a real cache on the test machine cannot leak in."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home" / "hub" / "checkpoints"


@pytest.fixture(scope="module")
def tv_alexnet() -> nn.Module:
    return tv_model("alexnet", seed=7)


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory, tv_alexnet) -> Path:
    path = tmp_path_factory.mktemp("weights") / "my_alexnet.pth"
    torch.save(tv_alexnet.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def our_vgg19() -> nn.Module:
    return M.vgg19(seed=0).eval()


@pytest.fixture(scope="module")
def tv_vgg19() -> nn.Module:
    return tv_model("vgg19", seed=3)


# --- architecture: torchvision compatibility -------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
def test_state_dict_keys_and_shapes_equal_torchvision(arch):
    with torch.device("meta"):
        reference = getattr(torchvision.models, arch)(weights=None)
    assert shapes(M.skeleton(arch)) == shapes(reference)
    assert list(M.skeleton(arch).state_dict()) == list(reference.state_dict())


@pytest.mark.parametrize("arch", ARCHS)
def test_parameter_count_equals_torchvision(arch):
    documented = M.imagenet_weights(arch).meta["num_params"]  # torchvision's pinned count
    assert sum(p.numel() for p in M.skeleton(arch).parameters()) == documented


def test_constructor_builds_the_skeleton_with_metadata():
    model = M.vgg11_bn()
    assert shapes(model) == shapes(M.skeleton("vgg11_bn"))
    assert all(p.device.type == "cpu" and p.requires_grad for p in model.parameters())
    assert (model.arch, model.weights_source, model.pretrained) == ("vgg11_bn", "random (seed 0)", False)
    assert torch.equal(model.features[1].running_var, torch.ones(64))  # BN stats reset after to_empty


@pytest.mark.parametrize("arch", ["alexnet", "vgg19_bn"])
def test_every_relu_is_out_of_place(arch):
    relus = [m for m in M.skeleton(arch).modules() if isinstance(m, nn.ReLU)]
    assert relus and not any(m.inplace for m in relus)


@pytest.mark.parametrize("arch", ["alexnet", "vgg11", "vgg16", "vgg19", "vgg19_bn"])
def test_torchvision_state_dict_loads_strictly_and_outputs_are_identical(arch):
    reference = tv_model(arch, seed=1)
    ours = M.get_model(arch, seed=0).eval()
    result = ours.load_state_dict(reference.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, actual = reference(x), ours(x)
    assert actual.shape == (1, 1000)
    assert torch.equal(actual, expected)


def test_get_model_rejects_unknown_names_with_a_suggestion():
    with pytest.raises(ValueError, match=r"Did you mean 'vgg16'\?.*alexnet"):
        M.get_model("VGG16")
    assert M.model_names() == ARCHS


# --- layer names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arch, name, index",
    [
        ("vgg19", "conv1_1", 0), ("vgg19", "relu1_1", 1), ("vgg19", "pool1", 4), ("vgg19", "conv2_1", 5),
        ("vgg19", "conv3_1", 10), ("vgg19", "conv4_1", 19), ("vgg19", "conv4_2", 21), ("vgg19", "conv5_1", 28),
        ("vgg19", "relu5_4", 35), ("vgg19", "pool5", 36),
        ("vgg16", "conv4_2", 19), ("vgg16", "pool5", 30),
        ("vgg11", "pool1", 2), ("vgg11", "conv2_1", 3), ("vgg11", "conv3_2", 8), ("vgg11", "pool3", 10),
        ("vgg19_bn", "bn1_1", 1), ("vgg19_bn", "relu1_1", 2), ("vgg19_bn", "pool1", 6), ("vgg19_bn", "pool5", 52),
        ("alexnet", "conv1", 0), ("alexnet", "pool1", 2), ("alexnet", "conv3", 6), ("alexnet", "relu5", 11),
        ("alexnet", "pool5", 12),
    ],
)
def test_layer_index_known_values(arch, name, index):
    assert M.layer_index(arch, name) == index


def test_alexnet_layer_names_are_the_documented_list():
    expected = "conv1 relu1 pool1 conv2 relu2 pool2 conv3 relu3 conv4 relu4 conv5 relu5 pool5".split()
    assert M.layer_names("alexnet") == expected


@pytest.mark.parametrize("arch", ARCHS)
def test_every_layer_name_maps_to_a_module_of_its_kind(arch):
    with torch.device("meta"):
        features = getattr(torchvision.models, arch)(weights=None).features
    kinds = {"conv": nn.Conv2d, "bn": nn.BatchNorm2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    names = M.layer_names(arch)
    assert len(names) == len(features) and len(set(names)) == len(names)
    for i, name in enumerate(names):
        assert isinstance(features[i], kinds[M.layer_kind(name)]), (arch, name, i)
    assert M.infer_arch(features) == arch


def test_bad_layer_name_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match=r"vgg19 has no layer 'conv4_22'\. Did you mean 'conv4_2'\?.*relu5_4"):
        M.layer_index("vgg19", "conv4_22")
    with pytest.raises(ValueError, match="unknown architecture"):
        M.layer_names("vgg20")


# --- weights: random init -----------------------------------------------------------------------


def test_same_seed_gives_identical_weights_and_other_seeds_differ():
    a, b, c = M.alexnet(seed=0), M.alexnet(seed=0), M.alexnet(seed=1)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.features[0].weight, c.features[0].weight)
    assert not torch.equal(a.classifier[1].weight, c.classifier[1].weight)


def test_init_follows_torchvision_scheme():
    model = M.alexnet(seed=0)
    conv = model.features[6]  # (384, 192, 3, 3): fan_out = 384 * 3 * 3
    expected_std = (2.0 / (384 * 3 * 3)) ** 0.5
    assert abs(conv.weight.std().item() / expected_std - 1) < 0.01
    assert abs(model.classifier[4].weight.std().item() / 0.01 - 1) < 0.01
    assert all(torch.count_nonzero(m.bias) == 0 for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_construction_leaves_global_rng_untouched():
    before = torch.random.get_rng_state()
    M.alexnet(seed=5)
    M.vgg11_bn(seed=5)
    M.feature_extractor("alexnet", ["conv2"], weights=None)
    assert torch.equal(torch.random.get_rng_state(), before)


# --- weights: imagenet, cache, offline fallback, files ------------------------------------------


def test_offline_imagenet_falls_back_without_network(monkeypatch, capsys, network_calls, empty_torch_home):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    model = M.vgg19(weights="imagenet")
    assert network_calls == []
    assert model.pretrained is False
    assert model.weights_source.startswith("random (seed 0)") and "COURSEKIT_OFFLINE=1" in model.weights_source
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("coursekit: ImageNet weights for vgg19 are not available")
    assert "RANDOM" in lines[0] and "vgg19-dcbb9e9d.pth" in lines[0] and str(empty_torch_home) in lines[0]


def test_unreachable_host_falls_back_after_one_probe(monkeypatch, capsys, empty_torch_home):
    monkeypatch.delenv("COURSEKIT_OFFLINE", raising=False)
    probes, downloads = [], []

    def refuse(address, timeout=None):
        probes.append((address, timeout))
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(tv_api.WeightsEnum, "get_state_dict", lambda *a, **k: downloads.append(a))
    model = M.alexnet(weights="imagenet")
    assert probes == [(("download.pytorch.org", 443), 2.0)] and downloads == []
    assert not model.pretrained and "not reachable" in model.weights_source
    assert "alexnet-owt-7be5be79.pth" in capsys.readouterr().err


def test_reachable_host_downloads_through_torchvision(monkeypatch, tv_alexnet, empty_torch_home):
    monkeypatch.delenv("COURSEKIT_OFFLINE", raising=False)

    class FakeSocket:
        def close(self):
            pass

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: FakeSocket())
    monkeypatch.setattr(tv_api.WeightsEnum, "get_state_dict", lambda self, **k: tv_alexnet.state_dict())
    model = M.alexnet(weights="imagenet")
    assert model.pretrained and model.weights_source.startswith("ImageNet (torchvision AlexNet_Weights.IMAGENET1K_V1")
    assert torch.equal(model.classifier[6].weight, tv_alexnet.classifier[6].weight)


@pytest.mark.parametrize("offline", ["1", ""])
def test_cached_imagenet_file_loads_without_network(
    monkeypatch, capsys, network_calls, empty_torch_home, alexnet_file, tv_alexnet, offline
):
    monkeypatch.setenv("COURSEKIT_OFFLINE", offline)
    empty_torch_home.mkdir(parents=True)
    shutil.copy(alexnet_file, empty_torch_home / "alexnet-owt-7be5be79.pth")
    for weights in ["imagenet", torchvision.models.AlexNet_Weights.IMAGENET1K_V1]:
        model = M.alexnet(weights=weights)
        assert model.pretrained is True and "cached at" in model.weights_source
        assert all(torch.equal(v, tv_alexnet.state_dict()[k]) for k, v in model.state_dict().items())
    assert network_calls == []
    assert capsys.readouterr().err == ""


def test_unreadable_cache_file_falls_back(monkeypatch, capsys, network_calls, empty_torch_home):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    empty_torch_home.mkdir(parents=True)
    (empty_torch_home / "alexnet-owt-7be5be79.pth").write_bytes(b"truncated download")
    model = M.alexnet(weights="imagenet")
    assert not model.pretrained and network_calls == []
    assert "could not be read" in capsys.readouterr().err


@pytest.mark.parametrize("as_path", [str, Path])
def test_local_weights_file_loads(alexnet_file, tv_alexnet, as_path):
    model = M.alexnet(weights=as_path(alexnet_file))
    assert model.pretrained is True and str(alexnet_file) in model.weights_source
    assert all(torch.equal(v, tv_alexnet.state_dict()[k]) for k, v in model.state_dict().items())


def test_bad_weights_files_raise_value_errors_naming_the_file(tmp_path, alexnet_file):
    missing = tmp_path / "nope.pth"
    with pytest.raises(ValueError, match=r"nope\.pth' does not exist"):
        M.alexnet(weights=missing)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match=r"garbage\.pth' could not be read"):
        M.alexnet(weights=garbage)
    checkpoint = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "state_dict": {"w": torch.zeros(1)}}, checkpoint)
    with pytest.raises(ValueError, match=r"ckpt\.pth' is not a plain state_dict"):
        M.alexnet(weights=checkpoint)
    stray = tmp_path / "stray.pth"
    torch.save({"conv.weight": torch.zeros(1)}, stray)
    with pytest.raises(ValueError, match=r"stray\.pth do not fit alexnet.*16 missing keys.*1 unexpected keys"):
        M.alexnet(weights=stray)
    looks_like = r"my_alexnet\.pth do not fit vgg11.*It looks like a checkpoint of alexnet \(num_classes=1000\)"
    with pytest.raises(ValueError, match=looks_like):
        M.vgg11(weights=alexnet_file)
    with pytest.raises(ValueError, match=r"2 shape mismatches \(classifier\.6\.weight: file \(1000, 4096\)"):
        M.alexnet(weights=alexnet_file, num_classes=10)
    with pytest.raises(ValueError, match=r"weights=3 is not understood"):
        M.alexnet(weights=3)


def test_bad_weights_arguments_raise_value_errors():
    with pytest.raises(ValueError, match=r"Did you mean 'imagenet'\?.*a path to a \.pth"):
        M.vgg19(weights="imagenett")
    with pytest.raises(ValueError, match="VGG19_Weights"):
        M.vgg19(weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1)
    with pytest.raises(ValueError, match="num_classes=10 does not fit ImageNet"):
        M.vgg19(weights="imagenet", num_classes=10)
    with pytest.raises(ValueError, match="seed must be an int"):
        M.alexnet(seed="0")
    assert set(IMAGENET_WEIGHTS) == set(ARCHS)


# --- feature extraction -------------------------------------------------------------------------


def test_extractor_returns_requested_layers_in_order_with_right_shapes(our_vgg19):
    fx = M.FeatureExtractor(our_vgg19, ["conv4_2", "conv1_1", "relu2_1", "pool5"])
    out = fx(torch.rand(2, 3, 64, 64))
    assert list(out) == ["conv4_2", "conv1_1", "relu2_1", "pool5"] == list(fx.layers)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "conv4_2": (2, 512, 8, 8), "conv1_1": (2, 64, 64, 64), "relu2_1": (2, 128, 32, 32), "pool5": (2, 512, 2, 2)
    }
    assert (fx.weights_source, fx.pretrained, fx.arch) == ("random (seed 0)", False, "vgg19")


def test_extractor_truncates_and_copies(our_vgg19):
    before = {k: v.clone() for k, v in our_vgg19.state_dict().items()}
    fx = M.FeatureExtractor(our_vgg19, ["relu2_1", "conv1_2"], pooling="avg")
    assert len(fx.net) == M.layer_index("vgg19", "relu2_1") + 1
    assert not hasattr(fx, "classifier") and not any(isinstance(m, nn.Linear) for m in fx.modules())
    assert all(not p.requires_grad for p in fx.parameters()) and not fx.training
    assert fx.train().training is False and not fx.net.training
    # the model passed in is untouched: same pools, trainable, same values, own storage
    assert isinstance(our_vgg19.features[4], nn.MaxPool2d)
    assert all(p.requires_grad for p in our_vgg19.parameters())
    assert all(torch.equal(v, before[k]) for k, v in our_vgg19.state_dict().items())
    assert fx.net[0].weight.data_ptr() != our_vgg19.features[0].weight.data_ptr()


def test_conv_features_are_pre_relu_even_from_torchvision_inplace_model(tv_vgg19):
    assert tv_vgg19.features[1].inplace  # the trap this guards against
    fx = M.FeatureExtractor(tv_vgg19, ["conv1_1", "relu1_1", "conv1_2"], normalize=False)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    out = fx(x)
    conv = tv_vgg19.features[0]
    assert torch.allclose(out["conv1_1"], F.conv2d(x, conv.weight, conv.bias, padding=1), atol=1e-6)
    assert out["conv1_1"].min() < 0 and out["conv1_2"].min() < 0
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))
    assert tv_vgg19.features[1].inplace and fx.weights_source.startswith("unknown")


def test_avg_pooling_replaces_max_pooling(our_vgg19):
    x = torch.rand(1, 3, 32, 32)
    avg = M.FeatureExtractor(our_vgg19, ["relu1_2", "pool1"], pooling="avg")
    mx = M.FeatureExtractor(our_vgg19, ["relu1_2", "pool1"], pooling="max")
    assert not any(isinstance(m, nn.MaxPool2d) for m in avg.net)
    assert isinstance(avg.net[4], nn.AvgPool2d) and (avg.net[4].kernel_size, avg.net[4].stride) == (2, 2)
    a, m = avg(x), mx(x)
    assert torch.allclose(a["pool1"], F.avg_pool2d(a["relu1_2"], 2), atol=1e-6)
    assert torch.equal(m["pool1"], F.max_pool2d(m["relu1_2"], 2))
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        M.FeatureExtractor(our_vgg19, ["pool1"], pooling="mean")


def test_normalisation_is_applied_and_input_is_not_mutated(our_vgg19):
    x = torch.rand(1, 3, 32, 32)
    x_before = x.clone()
    with_norm = M.FeatureExtractor(our_vgg19, ["conv1_1"])(x)["conv1_1"]
    assert torch.equal(x, x_before)
    mean = torch.tensor(M.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(M.IMAGENET_STD).view(1, 3, 1, 1)
    by_hand = M.FeatureExtractor(our_vgg19, ["conv1_1"], normalize=False)((x - mean) / std)["conv1_1"]
    assert torch.allclose(with_norm, by_hand, atol=1e-6)


def test_gradient_flows_to_the_input_only(our_vgg19):
    fx = M.FeatureExtractor(our_vgg19, ["conv1_1", "conv3_1"])
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    sum(f.square().mean() for f in fx(x).values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in fx.parameters())


def test_extractor_works_in_float64(our_vgg19):
    fx = M.FeatureExtractor(our_vgg19, ["conv2_1"])
    x = torch.rand(1, 3, 32, 32)
    single = fx(x)["conv2_1"]
    double = fx.double()(x.double())["conv2_1"]
    assert double.dtype == torch.float64 and torch.allclose(double.float(), single, atol=1e-4)


def test_extractor_rejects_bad_layers_and_inputs(our_vgg19):
    with pytest.raises(ValueError, match="Did you mean 'conv4_2'"):
        M.FeatureExtractor(our_vgg19, ["conv4_22"])
    with pytest.raises(ValueError, match="more than once"):
        M.FeatureExtractor(our_vgg19, ["conv1_1", "conv1_1"])
    with pytest.raises(ValueError, match=r"shape \(B, 3, H, W\)"):
        M.FeatureExtractor(our_vgg19, ["conv1_1"])(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="laid out like vgg19"):
        M.FeatureExtractor(our_vgg19, ["conv1_1"], arch="vgg16")


def test_feature_extractor_convenience(monkeypatch, capsys, network_calls, empty_torch_home):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    with pytest.raises(ValueError, match="alexnet has no layer 'conv1_1'"):
        M.feature_extractor("alexnet", ["conv1_1"])
    fx = M.feature_extractor("alexnet", ["conv2", "relu1"], pooling="avg")
    assert fx.layers == ("conv2", "relu1") and not fx.pretrained and "random (seed 0)" in fx.weights_source
    assert len(fx.net) == 4 and isinstance(fx.net[2], nn.AvgPool2d)
    assert tuple(fx(torch.rand(1, 3, 64, 64))["conv2"].shape) == (1, 192, 7, 7)
    assert network_calls == [] and capsys.readouterr().err.count("coursekit:") == 1


def test_rescale_gives_unit_mean_activation_per_layer_and_filter():
    from coursekit.models.rescale import calibration_images, rescale_to_unit_mean

    model = M.vgg11(seed=0)
    images = (calibration_images(32) - torch.tensor(M.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        M.IMAGENET_STD).view(1, 3, 1, 1)
    for per in ("layer", "filter"):
        net = copy.deepcopy(model.features[:6])  # conv1_1 relu pool conv2_1 relu pool
        rescale_to_unit_mean(net, images, per=per)
        h = images
        for module in net:
            h = module(h)
            if isinstance(module, nn.ReLU):
                means = h.mean(dim=(0, 2, 3))
                if per == "layer":
                    assert means.mean().item() == pytest.approx(1.0, rel=1e-4)
                else:
                    fired = means > 0
                    assert torch.allclose(means[fired], torch.ones_like(means[fired]), rtol=1e-4)
    fx = M.FeatureExtractor(model, ["relu1_1", "conv2_1"], rescale=True)
    assert fx.rescale and not torch.equal(fx.net[0].weight, model.features[0].weight)  # model untouched
