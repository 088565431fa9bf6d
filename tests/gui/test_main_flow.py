"""The main flow: build the report's stack by clicking, train, and see the results."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QListWidget, QPushButton, QSpinBox


def click_report_stack(window):
    layer_list = window.findChild(QListWidget, "layerList")
    while layer_list.count():
        layer_list.setCurrentRow(0)
        window.findChild(QPushButton, "removeLayerButton").click()
    layer_list.setCurrentRow(-1)
    width = window.findChild(QSpinBox, "linearWidthSpin")
    for w in (25, 25, 25):
        width.setValue(w)
        window.findChild(QPushButton, "addLinearButton").click()
        window.findChild(QPushButton, "addReluButton").click()
    width.setValue(2)
    window.findChild(QPushButton, "addLinearButton").click()
    window.findChild(QPushButton, "addTanhButton").click()
    return layer_list


def test_report_stack_built_by_clicking_trains(window, qtbot):
    layer_list = click_report_stack(window)
    assert [layer_list.item(i).text().split()[0] for i in range(layer_list.count())] == \
        ["Linear", "ReLU", "Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"]
    assert window.findChild(QPushButton, "runButton").isEnabled()
    window.findChild(QSpinBox, "epochsSpin").setValue(150)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as finished:
        window.findChild(QPushButton, "runButton").click()
    assert finished.args == ["completed"]
    loss_plot = window.findChild(pg.PlotWidget, "lossPlot")
    _, train = loss_plot.getPlotItem().listDataItems()[0].getData()
    assert len(train) == 150 and train[-1] < train[0] / 3
    heatmap = [i for i in window.findChild(pg.PlotWidget, "boundaryPlot").getPlotItem().items
               if isinstance(i, pg.ImageItem) and i.isVisible()]
    assert len(heatmap) == 1 and np.ptp(heatmap[0].image) > 0.5
    assert "test" in window.run_panel.metrics.text()
    assert window.run_panel.progress.value() == 150
