/* Parameters of the mock sky: one X-macro list drives the struct, the defaults, the spec-file
 * parser (every param overridable, unknown ones rejected) and the table in docs/mock_sky.md.
 *
 * Each entry: X(name, kind, default, source). kind: L long, D double, S string, B bool.
 * `source` says where the default comes from; values are never tuned toward a downstream
 * result (see docs/mock_sky.md). Band-indexed params are spelled out (g,r,i,z,y). */
#ifndef PZ_MOCK_PARAMS_H
#define PZ_MOCK_PARAMS_H

#include <stddef.h>
#include "util/err.h"
#include "util/spec.h"

#define PZ_MOCK_PARAMS(X)                                                                          \
    /* --- run shape --- */                                                                         \
    X(seed, L, 1, "random seed; the same seed gives byte-identical files")                          \
    X(n_cosmos, L, 200000, "rows of cosmos2020.fits (a random sampling of the ~2 deg2 sky to det_mag)") \
    X(n_galaxiesml, L, 60000, "GalaxiesML rows after the published cuts, over the three splits")    \
    X(layout, S, "minimal", "cosmos2020.fits layout: full (754 columns, 3491-byte rows) or minimal") \
    X(hsc_depth, S, "wide", "noise of hsc.fits: wide or udeep")                                     \
    X(images, B, 0, "write GalaxiesML `image` (N,5,64,64): off, 80 kB/galaxy and the study uses magnitudes only") \
    X(cosmos_overlap_fraction, D, 0.03, "part of GalaxiesML taken from spectroscopic galaxies inside the COSMOS field (same objects)") \
    /* --- field geometry and Galactic foreground --- */                                            \
    X(field_ra, D, 150.1, "COSMOS centre RA, deg (Scoville+2007; formats.md)")                     \
    X(field_dec, D, 2.2, "COSMOS centre Dec, deg")                                                  \
    X(field_area_deg2, D, 2.0, "area of the COSMOS2020 footprint (Weaver+2022: 2 deg2)")            \
    X(uvista_area_fraction, D, 0.78, "part of the footprint inside UltraVISTA (~1.5 of 2 deg2, McCracken+2012)") \
    X(udeep_fraction, D, 0.5, "part of UltraVISTA in the 4 ultra-deep stripes")                     \
    X(mask_density_deg2, D, 80, "bright-star HSC masks per deg2 (gives ~8% masked, as the HSC bright-star masks, Coupon+2018)") \
    X(mask_rmin_arcsec, D, 10, "smallest mask radius (log-uniform radii)")                         \
    X(mask_rmax_arcsec, D, 150, "largest mask radius")                                              \
    X(supcam_extra_mask, D, 0.3, "extra Suprime-Cam masks, as a fraction of the HSC ones (older, shallower halos)") \
    X(ebv_mw_mean, D, 0.018, "mean Galactic E(B-V) in COSMOS (Schlafly & Finkbeiner 2011 map, ~0.015-0.025)") \
    X(ebv_mw_gradient, D, 0.004, "E(B-V) gradient per degree across the field")                     \
    /* --- cosmology --- */                                                                         \
    X(h0, D, 70, "Hubble constant, km/s/Mpc (flat LCDM, as COSMOS2020)")                            \
    X(omega_m, D, 0.3, "matter density")                                                            \
    /* --- luminosity functions (rest-frame B, AB; after Faber+2007 and Willmer+2006, h=0.7) --- */ \
    X(det_mag, D, 27.0, "COSMOS2020 detection limit as a true i magnitude (Weaver+2022: ~27 at 3 sigma)") \
    X(zmin, D, 0.01, "lowest redshift drawn")                                                       \
    X(zmax, D, 6.0, "highest redshift drawn")                                                       \
    X(lf_mbright, D, -25.5, "brightest absolute B magnitude drawn")                                 \
    X(lf_mfaint, D, -12.0, "faintest absolute B magnitude drawn")                                   \
    X(lf_blue_phistar, D, 2.5e-3, "star-forming phi* at z=0, Mpc^-3 mag^-1 (Faber+2007, ~constant)") \
    X(lf_blue_mstar, D, -20.4, "star-forming M*_B at z=0 (Faber+2007, AB)")                         \
    X(lf_blue_alpha, D, -1.3, "star-forming faint-end slope (Faber+2007; Willmer+2006)")            \
    X(lf_blue_q, D, 1.3, "star-forming M* brightening per unit z (Faber+2007: ~1.2-1.3 mag)")       \
    X(lf_blue_p, D, 0.0, "star-forming phi* evolution index, phi* ~ (1+z)^p")                       \
    X(lf_red_phistar, D, 2.5e-3, "quiescent phi* at z=0 (Faber+2007)")                              \
    X(lf_red_mstar, D, -20.5, "quiescent M*_B at z=0")                                              \
    X(lf_red_alpha, D, -0.5, "quiescent faint-end slope (Faber+2007)")                              \
    X(lf_red_q, D, 1.2, "quiescent M* brightening per unit z")                                      \
    X(lf_red_p, D, -1.5, "quiescent phi* ~ (1+z)^p (Faber+2007: red phi* doubled since z~1)")       \
    X(lf_z_sat, D, 1.2, "M* stops brightening past this z (Faber+2007 fit z<1.1; rest-optical LFs at 2<z<3.5 have M*_B ~ -22, Marchesini+2007)") \
    X(lf_highz_index, D, -2.5, "phi* ~ ((1+z)/(1+z_sat))^index beyond z_sat (decline of the LBG LF, Bouwens+2015)") \
    /* --- galaxy types and dust --- */                                                             \
    X(red_t_max, D, 0.2, "quiescent galaxies: SED type t uniform in [0, red_t_max] (0 = E, 1 = starburst)") \
    X(blue_t_mean0, D, 0.5, "star-forming: mean type at z=0 (Sbc-Scd)")                             \
    X(blue_t_zslope, D, 0.15, "star-forming: mean type shift per unit z (bluer, burstier at high z; Madau & Dickinson 2014)") \
    X(blue_t_sigma, D, 0.2, "star-forming: spread of type")                                         \
    X(red_ebv_mean, D, 0.03, "quiescent mean stellar E(B-V) (half-normal)")                         \
    X(blue_ebv_mean, D, 0.15, "star-forming mean stellar E(B-V) (exponential; Calzetti 2001 typical 0.1-0.2)") \
    X(ebv_max, D, 0.6, "largest E(B-V) (grid edge)")                                                \
    X(calzetti_rv, D, 4.05, "R_V of the Calzetti+2000 attenuation law")                             \
    /* --- SED anchors (t = 0, 1/3, 2/3, 1); chosen so z=0 colours match SDSS types (Strateva+2001, Blanton+2003) --- */ \
    X(sed_e_beta_uv, D, 1.5, "E: UV slope of f_lambda below the break")                            \
    X(sed_e_d4000, D, 2.0, "E: 4000 A break amplitude (Dn4000 ~1.9-2.0 for old populations, Balogh+1999; Kauffmann+2003)") \
    X(sed_e_beta_bo, D, 1.5, "E: slope of f_lambda from the break to 5500 A (sets z=0 g-r ~0.75)") \
    X(sed_e_beta_opt, D, -0.4, "E: optical/NIR slope of f_lambda above 5500 A (sets z=0 r-i ~0.4)") \
    X(sed_e_ew_ha, D, 1, "E: rest EW(Halpha), A (Kennicutt 1992 atlas)")                            \
    X(sed_sbc_beta_uv, D, -0.5, "Sbc: UV slope")                                                    \
    X(sed_sbc_d4000, D, 1.5, "Sbc: break amplitude")                                                \
    X(sed_sbc_beta_bo, D, 0.8, "Sbc: break-to-5500 A slope (z=0 g-r ~0.55)")                      \
    X(sed_sbc_beta_opt, D, -1.1, "Sbc: optical slope")                                              \
    X(sed_sbc_ew_ha, D, 15, "Sbc: EW(Halpha)")                                                      \
    X(sed_scd_beta_uv, D, -1.3, "Scd: UV slope")                                                    \
    X(sed_scd_d4000, D, 1.25, "Scd: break amplitude")                                               \
    X(sed_scd_beta_bo, D, 0.4, "Scd: break-to-5500 A slope (z=0 g-r ~0.4)")                       \
    X(sed_scd_beta_opt, D, -1.6, "Scd: optical slope")                                              \
    X(sed_scd_ew_ha, D, 40, "Scd: EW(Halpha)")                                                      \
    X(sed_sb_beta_uv, D, -2.2, "starburst: UV slope (beta ~ -2.2 for young bursts, Meurer+1999)")   \
    X(sed_sb_d4000, D, 1.05, "starburst: break amplitude (Balmer, young)")                         \
    X(sed_sb_beta_bo, D, -0.5, "starburst: break-to-5500 A slope (z=0 g-r ~0.25)")                \
    X(sed_sb_beta_opt, D, -2.1, "starburst: optical slope")                                         \
    X(sed_sb_ew_ha, D, 150, "starburst: EW(Halpha)")                                                \
    X(line_oii_ha, D, 0.4, "EW([OII]3727)/EW(Halpha) (Kennicutt 1992)")                             \
    X(line_hb_ha, D, 0.25, "EW(Hbeta)/EW(Halpha): Case B 1/2.86 and a bluer continuum")             \
    X(line_o3hb_e, D, 0.5, "[OIII]5007/Hbeta for t=0 (metal rich)")                                 \
    X(line_o3hb_sb, D, 3.0, "[OIII]5007/Hbeta for t=1 (metal poor starbursts)")                    \
    X(line_lya_sb, D, 20, "rest EW(Lyalpha) for t=1 (LBG median ~20 A, Shapley+2003), scales with t^2") \
    X(ew_evol_index, D, 1.8, "EW ~ (1+z)^index (Fumagalli+2012, Halpha at fixed mass)")             \
    X(ew_evol_zcap, D, 2.0, "EW evolution stops at this z")                                         \
    X(igm_scale, D, 1.0, "multiplies the Madau (1995) mean IGM optical depth")                      \
    /* --- HSC band passes (smoothed top hats from published central wavelengths/widths; Kawanomoto+2018) --- */ \
    X(band_g_center, D, 4770, "HSC g centre, A")                                                    \
    X(band_g_width, D, 1400, "HSC g width, A")                                                      \
    X(band_r_center, D, 6200, "HSC r2 centre")                                                      \
    X(band_r_width, D, 1450, "HSC r2 width")                                                        \
    X(band_i_center, D, 7700, "HSC i2 centre")                                                      \
    X(band_i_width, D, 1500, "HSC i2 width")                                                        \
    X(band_z_center, D, 8900, "HSC z centre")                                                       \
    X(band_z_width, D, 780, "HSC z width")                                                          \
    X(band_y_center, D, 9800, "HSC y centre (CCD QE cut included)")                                 \
    X(band_y_width, D, 850, "HSC y width")                                                          \
    X(band_edge, D, 40, "edge softness of the band passes, A")                                      \
    X(ref_center, D, 4400, "rest-frame B reference band of the LF, centre")                        \
    X(ref_width, D, 1000, "rest-frame B reference band width")                                      \
    /* --- sizes (van der Wel+2014 size-mass-z; Shen+2003 size-luminosity) --- */                   \
    X(size_red_kpc, D, 2.5, "quiescent half-light radius at M_B=-21, z=0, kpc")                    \
    X(size_blue_kpc, D, 4.0, "star-forming half-light radius at M_B=-21, z=0, kpc")                \
    X(size_lum_slope, D, 0.3, "r_e ~ L^slope (Shen+2003)")                                          \
    X(size_red_zindex, D, -1.48, "r_e ~ (1+z)^index, quiescent (van der Wel+2014)")                 \
    X(size_blue_zindex, D, -0.75, "r_e ~ (1+z)^index, star-forming (van der Wel+2014)")             \
    X(size_scatter_dex, D, 0.2, "log-normal size scatter, dex")                                     \
    X(psf_cosmos, D, 0.8, "FWHM of the PSF-homogenised COSMOS2020 images, arcsec")                 \
    X(psf_hsc, D, 0.7, "HSC-Wide seeing FWHM, arcsec (Aihara+2019: i 0.6, others ~0.7)")           \
    /* --- noise: depths --- */                                                                     \
    X(cosmos_depth_g, D, 28.1, "COSMOS2020 HSC g 3 sigma 2\" aperture depth (Weaver+2022 Table 1)") \
    X(cosmos_depth_r, D, 27.8, "HSC r (UltraDeep)")                                                 \
    X(cosmos_depth_i, D, 27.6, "HSC i")                                                             \
    X(cosmos_depth_z, D, 27.2, "HSC z")                                                             \
    X(cosmos_depth_y, D, 26.5, "HSC y")                                                             \
    X(cosmos_zp_scale, D, 1.0, "scale of the CLASSIC HSC zero-point offsets injected (formats.md: 0.128 0.127 0.094 0.084 0.100; 0 = none)") \
    X(wide_depth_g, D, 26.5, "HSC-Wide 5 sigma point-source depth g (formats.md; Aihara+2019)")    \
    X(wide_depth_r, D, 26.1, "HSC-Wide r")                                                          \
    X(wide_depth_i, D, 25.9, "HSC-Wide i")                                                          \
    X(wide_depth_z, D, 25.1, "HSC-Wide z")                                                          \
    X(wide_depth_y, D, 24.4, "HSC-Wide y")                                                          \
    X(udeep_depth_g, D, 27.4, "HSC UltraDeep 5 sigma g (Aihara+2019, approx.)")                    \
    X(udeep_depth_r, D, 27.1, "HSC UltraDeep r")                                                    \
    X(udeep_depth_i, D, 26.9, "HSC UltraDeep i")                                                    \
    X(udeep_depth_z, D, 26.3, "HSC UltraDeep z")                                                    \
    X(udeep_depth_y, D, 25.3, "HSC UltraDeep y")                                                    \
    X(calib_floor, D, 0.01, "photometric calibration scatter per band and object, mag (added to the noise)") \
    /* --- stars, AGN, failures --- */                                                              \
    X(star_density_i20, D, 900, "stars per deg2 per mag at i=20 toward COSMOS (b=42 deg; Besancon-like counts)") \
    X(star_count_slope, D, 0.08, "d log N_star / dm (flat halo counts at faint mags)")             \
    X(star_mag_bright, D, 16, "brightest star in the catalogue (saturation)")                      \
    X(star_class_mag50, D, 25.5, "i where half of stars are still classified as stars (lp_type 1)") \
    X(xray_density_deg2, D, 1800, "X-ray sources per deg2 (Chandra COSMOS Legacy: 4016 in 2.2 deg2, Civano+2016)") \
    X(xray_mag_max, D, 24.5, "X-ray counterparts drawn among galaxies brighter than this i")        \
    X(failed_fit_fraction, D, 0.01, "LePhare failures (lp_type -9) at the faint end (i > 26)")      \
    /* --- LePhare-like photo-z error (Weaver+2022 Sect. 7, Fig. 13-14) --- */                     \
    X(lp_sigma_floor, D, 0.007, "sigma_NMAD floor for the brightest galaxies")                      \
    X(lp_sigma_m22, D, 0.010, "sigma_NMAD/(1+z) at i=22.5 (Weaver+2022: ~0.01 at i<22.5)")         \
    X(lp_sigma_m25, D, 0.028, "sigma_NMAD/(1+z) at i=25 (a few per cent; <0.05 at 25<i<27)")       \
    X(lp_eta_bright, D, 0.01, "outlier fraction for bright galaxies (Weaver+2022: ~1% at i<22.5)")  \
    X(lp_eta_faint, D, 0.10, "outlier fraction at the faint end (~10% at 25<i<27)")                 \
    X(lp_eta_mag, D, 25.0, "i of the mid-point of the outlier-fraction rise")                       \
    X(ez_sigma_scale, D, 1.15, "EAZY scatter relative to LePhare (Weaver+2022 find them similar)")  \
    X(ez_corr, D, 0.7, "correlation of EAZY and LePhare errors (same photometry)")                  \
    /* --- HSC object table --- */                                                                  \
    X(hsc_astrom_arcsec, D, 0.07, "HSC vs COSMOS2020 astrometric offset, rms per object (Aihara+2019: <0.1\")") \
    X(hsc_blend_arcsec, D, 0.6, "COSMOS objects closer than this are one HSC object (deblending limit at 0.7\" seeing)") \
    X(hsc_missing_fraction, D, 0.01, "COSMOS objects lost in HSC (artefacts, deblender failures)") \
    X(hsc_margin_deg, D, 0.1, "HSC table covers the COSMOS footprint plus this margin")             \
    X(hsc_det_snr, D, 5, "HSC detection S/N in i")                                                  \
    /* --- spectroscopic selection for GalaxiesML (survey limits are published; weights ours) --- */ \
    X(spec_w_sdss, D, 0.15, "share of SDSS main-like targets (r<17.77, Strauss+2002)")              \
    X(spec_w_boss, D, 0.25, "share of BOSS CMASS-like targets (17.5<i<19.9, d_perp>0.55, Dawson+2013)") \
    X(spec_w_gama, D, 0.15, "share of GAMA-like targets (r<19.8, Driver+2011)")                     \
    X(spec_w_vipers, D, 0.15, "share of VIPERS-like targets (i<22.5, z>0.5 colour cut, Guzzo+2014)") \
    X(spec_w_deep2, D, 0.08, "share of DEEP2-like targets (R<24.1, z>0.7 colour cut, Newman+2013)") \
    X(spec_w_primus, D, 0.12, "share of PRIMUS-like low-resolution redshifts (i<23, sigma_z=0.005(1+z), Coil+2011)") \
    X(spec_w_deep, D, 0.10, "share of VVDS-Deep-like targets (purely magnitude limited, i<24, Le Fevre+2005)") \
    X(spec_fail_fraction, D, 0.005, "spectroscopic redshifts that are wrong (line misidentification)") \
    X(spec_inhomog_fraction, D, 0.05, "redshifts with specz_flag_homogeneous false (insecure flags)") \
    X(spec_magi_sigma, D, 0.05, "scatter of the survey's own i magnitude vs HSC cmodel")

typedef struct pz_mock_params {
#define PZ_MOCK_FIELD_L(n) long n;
#define PZ_MOCK_FIELD_D(n) double n;
#define PZ_MOCK_FIELD_S(n) const char *n;
#define PZ_MOCK_FIELD_B(n) int n;
#define PZ_MOCK_FIELD(name, kind, def, doc) PZ_MOCK_FIELD_##kind(name)
    PZ_MOCK_PARAMS(PZ_MOCK_FIELD)
#undef PZ_MOCK_FIELD
} pz_mock_params;

typedef struct pz_mock_paramdef {
    const char *name;
    char kind;            /* 'L', 'D', 'S', 'B' */
    size_t offset;
    double def_num;       /* default for L/D/B */
    const char *def_str;  /* default for S */
    const char *doc;
} pz_mock_paramdef;

extern const pz_mock_paramdef pz_mock_paramdefs[];
extern const size_t pz_mock_nparams;
extern const pz_param_def pz_mock_param_table[];

void pz_mock_params_default(pz_mock_params *p);
/* Defaults, then every param found in the spec; unknown params and bad values are errors. */
int pz_mock_params_from_spec(pz_mock_params *p, const pz_spec *spec, pz_err *err);
/* Range and consistency checks (sizes > 0, layout/hsc_depth names, fractions in [0,1]...). */
int pz_mock_params_check(const pz_mock_params *p, pz_err *err);

#endif
