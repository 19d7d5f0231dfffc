"""Parsing SWMM 5.2 report text: options, continuity, summary tables in SI, errors and warnings.

The snippets are copied from reports SWMM 5.2.4 wrote for corpus models.
"""

from __future__ import annotations

import math

import pytest

from hydro.drainage.swmm.report import parse_report

FT = 0.3048
CFS = FT**3

US_REPORT = """
  EPA STORM WATER MANAGEMENT MODEL - VERSION 5.2 (Build 5.2.4)
  ------------------------------------------------------------

  Example 1

  WARNING 04: minimum elevation drop used for Conduit 8061

  ****************
  Analysis Options
  ****************
  Flow Units ............... CFS
  Flow Routing Method ...... KINWAVE
  Starting Date ............ 01/01/1998 00:00:00

  **************************        Volume         Depth
  Runoff Quantity Continuity     acre-feet        inches
  **************************     ---------       -------
  Total Precipitation ......        15.679         2.650
  Continuity Error (%) .....        -0.272


  **************************        Volume        Volume
  Flow Routing Continuity        acre-feet      10^6 gal
  **************************     ---------     ---------
  Flooding Loss ............         0.415         0.135
  Continuity Error (%) .....         0.103

  *********************
  Node Flooding Summary
  *********************

  Flooding refers to all water that overflows a node, whether it ponds or not.
  --------------------------------------------------------------------------
                                                             Total   Maximum
                                 Maximum   Time of Max       Flood    Ponded
                        Hours       Rate    Occurrence      Volume    Volume
  Node                 Flooded       CFS   days hr:min    10^6 gal  1000 ft\u00b3
  --------------------------------------------------------------------------
  10                      2.80      4.54      0  04:01       0.135    18.066


  ***************
  Pumping Summary
  ***************

  ---------------------------------------------------------------------------------------------------------
                                                  Min       Avg       Max     Total     Power    % Time Off
                        Percent   Number of      Flow      Flow      Flow    Volume     Usage    Pump Curve
  Pump                 Utilized   Start-Ups       CFS       CFS       CFS  10^6 gal     Kw-hr    Low   High
  ---------------------------------------------------------------------------------------------------------
  PUMP1                   83.94          89      0.00      0.51      0.64     0.274     38.44    0.0    2.5


  ********************
  Link Flow Summary
  ********************

  -----------------------------------------------------------------------------
                                 Maximum  Time of Max   Maximum    Max/    Max/
                                  |Flow|   Occurrence   |Veloc|    Full    Full
  Link                 Type          CFS  days hr:min    ft/sec    Flow   Depth
  -----------------------------------------------------------------------------
  1                    CONDUIT      4.65     0  04:01      7.60    0.30    0.38
  PUMP1                PUMP         0.64     1  10:05                0.90
  16                   CONDUIT     18.28     0  04:02    >50.00    0.62    0.57
"""

SI_REPORT = """
  ****************
  Analysis Options
  ****************
  Flow Units ............... CMS
  Flow Routing Method ...... DYNWAVE

  ******************
  Node Depth Summary
  ******************

  ---------------------------------------------------------------------------------
                                 Average  Maximum  Maximum  Time of Max    Reported
                                   Depth    Depth      HGL   Occurrence   Max Depth
  Node                 Type       Meters   Meters   Meters  days hr:min      Meters
  ---------------------------------------------------------------------------------
  XCAUBPAL             JUNCTION     1.51     2.31    12.31     0  01:58        2.31
  O1                   OUTFALL      0.10     0.20     9.20     0  01:00        0.20

  **********************
  Node Surcharge Summary
  **********************

  Surcharging occurs when water rises above the top of the highest conduit.
  ---------------------------------------------------------------------
                                               Max. Height   Min. Depth
                                   Hours       Above Crown    Below Rim
  Node                 Type      Surcharged         Meters       Meters
  ---------------------------------------------------------------------
  01y33                JUNCTION        0.20          3.509        1.181

  *********************
  Node Flooding Summary
  *********************

  Flooding refers to all water that overflows a node, whether it ponds or not.
  --------------------------------------------------------------------------
                                                             Total   Maximum
                                 Maximum   Time of Max       Flood    Ponded
                        Hours       Rate    Occurrence      Volume     Depth
  Node                 Flooded       CMS   days hr:min    10^6 ltr    Meters
  --------------------------------------------------------------------------
  CNOTDOM-I               0.09     0.406      0  01:45       0.089     0.250
"""

ERROR_REPORT = """
  EPA STORM WATER MANAGEMENT MODEL - VERSION 5.2 (Build 5.2.4)

  ERROR 209: undefined object N99 at line 114 of [CONDUIT] section:
  1               	9               	N99             	400       	0.01

  ERROR 200: one or more errors in input file.
  ERROR 317: cannot open rainfall data file rain.dat.
"""


def test_options_and_continuity():
    report = parse_report(US_REPORT)
    assert report.flow_units == "CFS" and report.unit_system == "US"
    assert report.routing_method == "KINWAVE"
    assert report.runoff_continuity_error == -0.272
    assert report.flow_routing_continuity_error == 0.103
    assert [str(w) for w in report.warnings] == [
        "WARNING 4: minimum elevation drop used for Conduit 8061"
    ]
    assert report.errors == ()


def test_us_flooding_table_in_si():
    flood = parse_report(US_REPORT).node_flooding()
    row = flood.loc["10"]
    assert row["flooded_duration"] == pytest.approx(2.80 * 3600)
    assert row["max_flooding_rate"] == pytest.approx(4.54 * CFS)
    assert row["time_of_max_flooding"] == 4 * 3600 + 60
    # 10^6 gal as SWMM prints it: ft3 * 7.48e-6
    assert row["flood_volume"] == pytest.approx(0.135 / 7.48e-6 * CFS)
    assert row["max_ponded_volume"] == pytest.approx(18.066 * 1000 * CFS)
    assert math.isnan(row["max_ponded_depth"])


def test_us_pumping_table_in_si():
    pump = parse_report(US_REPORT).pumping().loc["PUMP1"]
    assert pump["utilization"] == pytest.approx(0.8394)
    assert pump["startups"] == 89
    assert pump["avg_flow"] == pytest.approx(0.51 * CFS)
    assert pump["max_flow"] == pytest.approx(0.64 * CFS)
    assert pump["pumped_volume"] == pytest.approx(0.274 / 7.48e-6 * CFS)
    assert pump["energy"] == pytest.approx(38.44 * 3.6e6)
    assert pump["off_curve_low"] == 0.0 and pump["off_curve_high"] == pytest.approx(0.025)


def test_link_flow_table_handles_pumps_and_fast_conduits():
    links = parse_report(US_REPORT).link_flow()
    assert list(links.index) == ["1", "PUMP1", "16"]
    assert links.loc["1", "max_flow"] == pytest.approx(4.65 * CFS)
    assert links.loc["1", "max_velocity"] == pytest.approx(7.60 * FT)
    assert links.loc["PUMP1", "time_of_max_flow"] == 86400 + 10 * 3600 + 5 * 60
    assert math.isnan(links.loc["PUMP1", "max_velocity"])
    assert math.isnan(links.loc["16", "max_velocity"])  # printed as >50.00


def test_si_tables():
    report = parse_report(SI_REPORT)
    assert report.unit_system == "SI"
    depth = report.node_depth()
    assert depth.loc["XCAUBPAL", "max_depth"] == 2.31
    assert depth.loc["O1", "node_type"] == "outfall"
    assert depth.loc["XCAUBPAL", "time_of_max_depth"] == 3600 + 58 * 60
    surcharge = report.node_surcharge().loc["01y33"]
    assert surcharge["surcharged_duration"] == pytest.approx(720.0)
    assert surcharge["max_height_above_crown"] == 3.509
    assert surcharge["min_depth_below_rim"] == 1.181
    flood = report.node_flooding().loc["CNOTDOM-I"]
    assert flood["max_flooding_rate"] == 0.406
    # 10^6 ltr as SWMM prints it (ft3 * 28.317e-6), back to SWMM's m3 (ft3 * 0.02832)
    assert flood["flood_volume"] == pytest.approx(0.089 / 28.317e-6 * 0.02832)
    assert flood["max_ponded_depth"] == 0.25
    assert math.isnan(flood["max_ponded_volume"])


def test_missing_tables_are_empty_frames():
    report = parse_report(SI_REPORT)
    assert report.pumping().empty and next(iter(report.pumping().columns)) == "utilization"
    assert report.link_flow().empty
    assert report.runoff_continuity_error is None


def test_errors_keep_code_words_and_quoted_line():
    report = parse_report(ERROR_REPORT)
    assert [e.code for e in report.errors] == [209, 200, 317]
    first = report.errors[0]
    assert first.text == "undefined object N99 at line 114 of [CONDUIT] section"
    assert first.quoted() == "1 9 N99 400 0.01"
    assert str(first).startswith("ERROR 209: undefined object N99 at line 114")
    assert report.errors[2].context == ""
