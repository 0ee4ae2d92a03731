* gated_1t1r: a whole 1T1R cell as one three-terminal device (an example of a gate terminal).
*
*   d --- 1/g --- x --- NMOS (drain x, gate g, source s, bulk ground) --- s
*
* The NMOS card has the numbers of models/nmos_level1.lib (generic 0.18 um, SPICE level 1),
* so an array of this device with --vg-on 1.8 is the built-in `--cell 1t1r --vg-on 1.8`
* (tests/test_devices.py checks it). The terminal named g goes to the row's gate line.
* g : conductance of the memory element, siemens (spicebar puts G[i, j] here)
.subckt gated_1t1r d g s params: g=1e-5
r1 d x {1/g}
m1 x g s 0 nl1 w=1e-6 l=0.18e-6
.model nl1 nmos (level=1 vto=0.5 kp=387e-6 gamma=0.4 phi=0.8 lambda=0.1 tox=4e-9 ld=0 is=0 js=0)
.ends gated_1t1r
