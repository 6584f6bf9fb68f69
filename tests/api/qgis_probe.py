"""Runs inside QGIS's own Python (Debian ``python3-qgis``, the system ``/usr/bin/python3``),
as a GIS unit's QGIS would use the API: list the collections, add each as a "WFS / OGC
API - Features" (``OAPIF``) layer with the client's HTTP Basic credentials, read its
features and draw the layers to a PNG.

Usage: python3 qgis_probe.py API_URL CLIENT_ID SECRET OUT_PNG  (prints one JSON object)
"""

from __future__ import annotations

import base64
import json
import sys

from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsNetworkAccessManager,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, QUrl
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtNetwork import QNetworkRequest


def main(url: str, client_id: str, secret: str, out_png: str) -> dict:
    app = QgsApplication([], False)
    app.initQgis()
    try:
        # the collections, as QGIS's connection dialog asks for them (its network stack)
        request = QNetworkRequest(QUrl(f"{url}/collections"))
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        request.setRawHeader(b"Authorization", f"Basic {basic}".encode())
        request.setRawHeader(b"Accept", b"application/json")
        reply = QgsNetworkAccessManager.instance().blockingGet(request)
        listed = [c["id"] for c in json.loads(bytes(reply.content()).decode())["collections"]]
        layers, found = [], {}
        for cid in listed:
            uri = QgsDataSourceUri()
            uri.setParam("url", url)
            uri.setParam("typename", cid)
            uri.setUsername(client_id)
            uri.setPassword(secret)
            layer = QgsVectorLayer(uri.uri(False), cid, "OAPIF")
            features = list(layer.getFeatures()) if layer.isValid() else []
            found[cid] = {
                "valid": layer.isValid(),
                "error": "" if layer.isValid() else layer.error().summary(),
                "features": len(features),
                "keys": sorted(
                    [int(f.attribute("mouza_id")), str(f.attribute("khasra"))] for f in features
                )
                if cid == "khasras"
                else [],
                "fields": [f.name() for f in layer.fields()],
                "geometry_type": layer.geometryType(),
                "extent": [
                    layer.extent().xMinimum(),
                    layer.extent().yMinimum(),
                    layer.extent().xMaximum(),
                    layer.extent().yMaximum(),
                ],
                "crs": layer.crs().authid(),
            }
            if layer.isValid():
                layers.append(layer)
        # draw them, as the map canvas would
        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setBackgroundColor(QColor(255, 255, 255))
        settings.setOutputSize(QSize(600, 600))
        settings.setDestinationCrs(layers[0].crs())
        settings.setExtent(layers[0].extent())
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        image.save(out_png, "PNG")
        white = QColor(255, 255, 255).rgb()
        drawn = sum(
            image.pixel(x, y) != white
            for x in range(0, image.width(), 3)
            for y in range(0, image.height(), 3)
        )
        result = {
            "listed": listed,
            "layers": found,
            "drawn_samples": drawn,
            "samples": len(range(0, image.width(), 3)) * len(range(0, image.height(), 3)),
        }
        # printed before QGIS shuts down: its exit may crash after layers it did not own
        print(json.dumps(result), flush=True)
        del job, layers, layer
        return result
    finally:
        app.exitQgis()


if __name__ == "__main__":
    main(*sys.argv[1:5])
