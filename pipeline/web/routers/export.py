"""The run as a spreadsheet, reviews included."""

from __future__ import annotations

from datetime import date

import anyio
from fastapi import APIRouter
from fastapi.responses import Response

from pipeline.report.export import workbook_bytes
from pipeline.web.deps import CatalogueDep, ServicesDep

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/export.xlsx")
async def export_xlsx(services: ServicesDep, catalogue: CatalogueDep) -> Response:
    reviews = [review.row() for _, review in sorted(services.reviews.all_current().items())]
    data = await anyio.to_thread.run_sync(workbook_bytes, catalogue.data_dir, reviews)
    name = f"icc-practices-{date.today():%Y%m%d}.xlsx"
    return Response(data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})
