"""Hostile input to the commands that run a network (probe, ERF, Keras models): one line, exit 2, no traceback.

Every refusal here comes before anything large is allocated or built (rfcalc/probe_limits.py).
"""

import pytest

from rfcalc.cli import main

pytestmark = pytest.mark.tf


def refuse(capsys, argv, needle):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rfcalc: error:"), err
    assert needle in lines[0], err


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["probe", "c1*1200"], "deeper than the probes build"),
        (["probe", "c1*1200", "--erf"], "deeper than the probes build"),
        (["probe", "c3", "--input", "40000x40000x3"], "of activations per sample"),
        (["probe", "c3", "--erf", "--input", "4000x4000x3"], "rfcalc allocates at most"),
        (["probe", "c3", "--erf", "--samples", "100000", "--input", "512x512x3"], "fewer --samples"),
        (["probe", "c3", "--erf", "--samples", "1", "--input", "30000x30000x3"], "GiB"),
    ],
)
def test_huge_probes_are_refused_before_allocating(capsys, argv, needle):
    refuse(capsys, argv, needle)


@pytest.mark.parametrize("spec", ["dw3s2x1", "sep3s1x2", "c3,dw5s1x2m2", "c3,sep3s2x1-16"])
@pytest.mark.parametrize("erf", [False, True])
def test_unequal_depthwise_strides_are_refused_before_building(capsys, spec, erf):
    refuse(capsys, ["probe", spec] + (["--erf"] if erf else []), "equal strides on both axes")


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["probe", "c3", "--plot", "x.txt"], ".png, .svg or .pdf"),
        (["probe", "c3", "--plot", "rf"], ".png, .svg or .pdf"),
        (["probe", "c3", "--plot", "."], "is a folder"),
        (["probe", "c3", "--plot", "no/such/folder/rf.png"], "does not exist"),
        (["probe", "c3", "--erf", "--plot", "erf.jpeg"], ".png, .svg or .pdf"),
        (["probe", "c3", "--unit", "1,1"], "--unit picks the output unit"),
        (["probe", "c3", "--erf", "--unit", "1,1"], "--unit picks the output unit"),
    ],
)
def test_bad_plot_paths_and_idle_options_are_refused_first(capsys, argv, needle):
    refuse(capsys, argv, needle)


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_plot_writes_where_asked_and_says_so(capsys, tmp_path, ext):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"growth.{ext}"
    assert main(["probe", "c3,p2", "--input", "12x12x1", "--plot", str(path)]) == 0
    err = capsys.readouterr().err
    assert path.exists() and path.stat().st_size > 0
    assert err.strip() == f"rfcalc: wrote {path}"
    assert not (tmp_path / f"growth.{ext}.png").exists()


def test_library_calls_raise_rferror_for_the_same_classes():
    import rfcalc
    from rfcalc.runs.plots import figure_path

    with pytest.raises(rfcalc.RFError, match="deeper"):
        rfcalc.probe("c1*700", input_shape=(8, 8, 1))
    with pytest.raises(rfcalc.RFError, match="equal strides"):
        rfcalc.erf("dw3s2x1", input_shape=(8, 8, 1))
    with pytest.raises(rfcalc.RFError, match=".png, .svg or .pdf"):
        figure_path("out.txt")


# --- Keras models: one line naming what is wrong ------------------------------------------------


def _model_with_unknown_layer(path):
    """A .keras archive whose config names a class Keras cannot find (as a model with custom layers is)."""
    import json
    import zipfile

    import keras

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="mine")])
    good = path.with_name("good.keras")
    model.save(good)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                cfg = json.loads(data)
                for layer in cfg["config"]["layers"]:
                    if layer["class_name"] == "Conv2D":
                        layer.update(class_name="TwiceConv", module=None, registered_name="custom>TwiceConv")
                data = json.dumps(cfg).encode()
            zout.writestr(item, data)
    return path


def test_a_model_with_an_unknown_layer_class_is_one_line_naming_the_layer(capsys, tmp_path):
    path = _model_with_unknown_layer(tmp_path / "custom.keras")
    refuse(capsys, [str(path)], "layer 'mine' is of class 'TwiceConv'")
    refuse(capsys, ["probe", str(path)], "layer 'mine' is of class 'TwiceConv'")


@pytest.mark.parametrize(
    "name, close",
    [("NoSuchModel", "the closest:"), ("resnet5", "ResNet50"), ("VGG61", "VGG16"), ("mobilenet_v2", "MobileNetV2")],
)
def test_an_unknown_application_suggests_the_closest_names(capsys, name, close):
    main([f"keras:{name}"])
    err = capsys.readouterr().err
    assert close in err and err.count(",") < 8 and len(err.splitlines()) == 1, err


def test_to_keras_refuses_unequal_depthwise_strides_before_building():
    import rfcalc

    with pytest.raises(rfcalc.RFError, match="equal strides"):
        rfcalc.to_keras("c3,sep3s2x1", input_shape=(16, 16, 3))


@pytest.mark.parametrize("seed", ["-1", "4294967296", "99999999999999999999999", "x", "３"])
def test_seeds_numpy_refuses_are_refused_as_usage(capsys, seed):
    with pytest.raises(SystemExit) as exc:
        main(["probe", "c3", "--erf", "--seed", seed, "--input", "8x8x1"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err and "argument --seed" in err


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_erf_refuses_seeds_numpy_cannot_take(seed):
    import rfcalc

    with pytest.raises(rfcalc.RFError, match="seed must be"):
        rfcalc.erf("c3", input_shape=(8, 8, 1), samples=2, seed=seed)


def test_probe_takes_the_notebook_presets(capsys):
    assert main(["probe", "model1", "--input", "12x12x1", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["measured"]["rf"] == data["analytic"]["rf"] == [4, 4]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["explain", "keras:VGG16"], "212×212 region"),
        (["compare", "keras:VGG16", "c3*13", "--input", "224x224x3"], "212x212"),
    ],
)
def test_explain_and_compare_take_models(capsys, argv, words):
    assert main(argv) == 0
    assert words in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["probe", "c3", "--samples", "8"], "--samples sets up the ERF"),
        (["probe", "c3", "--seed", "3"], "--seed sets up the ERF"),
        (["probe", "c3", "--image", "cifar10:1"], "--image without --erf"),
        (["probe", "c3", "--erf", "--image", "x.png", "--samples", "4"], "not both"),
    ],
)
def test_probe_options_that_would_do_nothing_are_refused(capsys, argv, needle):
    refuse(capsys, argv, needle)
